package dev.bowline.proxy.upstream;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One request and what its response listener saw, checked as it comes: interim heads, then one
 * final head, content, the last part; or a reset; nothing after either.
 */
final class Exchange implements ResponseListener {
  final HttpMethod method;
  final List<String> events = new ArrayList<>();
  boolean head;
  boolean ended;
  String reset;
  boolean pooled;
  final List<String> violations = new ArrayList<>();
  private final java.util.Set<String> reasons;

  Exchange(HttpMethod method, java.util.Set<String> reasons) {
    this.method = method;
    this.reasons = reasons;
  }

  HttpRequest request() {
    if (method == HttpMethod.CONNECT) {
      var r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "h:443");
      r.headers().set(HttpHeaderNames.HOST, "h:443");
      return r; // a tunnel's request does not end
    }
    var body =
        method == HttpMethod.POST
            ? Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII)
            : Unpooled.EMPTY_BUFFER;
    var r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/x", body);
    r.headers().set(HttpHeaderNames.HOST, "h").setInt(HttpHeaderNames.CONTENT_LENGTH, 5);
    if (method != HttpMethod.POST) {
      r.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
    }
    return r;
  }

  @Override
  public void onUpstreamObject(HttpObject msg) {
    try {
      check(!ended && reset == null, "%s after the exchange ended", msg);
      check(msg.decoderResult().isSuccess(), "a failed message %s", msg);
      if (msg instanceof HttpResponse r) {
        int code = r.status().code();
        check(!head, "a second final head %s", msg);
        if (code >= 200 || code == 101) {
          head = true;
          events.add("head " + code);
        } else {
          events.add("interim " + code);
          return; // the codec's empty last part of an interim head is not passed on
        }
      }
      if (msg instanceof HttpContent c) {
        check(head, "content before the final head: %s", msg);
        if (c.content().isReadable()) {
          events.add("body " + c.content().toString(StandardCharsets.ISO_8859_1));
        }
      }
      if (msg instanceof LastHttpContent) {
        ended = true;
        events.add("end");
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void onUpstreamReset(String reason) {
    check(!ended && reset == null, "reset %s after the exchange ended", reason);
    check(reasons.contains(reason), "reset reason %s", reason);
    reset = reason;
    events.add("reset " + reason);
  }

  /**
   * Records a broken rule: thrown here, it would reach the connection's exception handler, which
   * closes the connection, and pass unseen.
   */
  private void check(boolean holds, String what, Object arg) {
    if (!holds) {
      violations.add(what.formatted(arg));
    }
  }
}
