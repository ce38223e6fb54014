package dev.bowline.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
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
 * What {@link Http1ClientCodec} decodes from response bytes, as comparable text: for the codec
 * equivalence test and the upstream fuzz target, which compare the codec with its fast heads to the
 * same codec with Netty's decoder alone.
 */
public final class ResponseDecoding {
  private ResponseDecoding() {}

  /**
   * Every message the client codec ({@code fastHeads} or Netty's decoder alone, with {@code
   * config}) decodes from {@code bytes}, after requests with {@code methods} were sent, the bytes
   * coming in pieces whose sizes are {@code cuts} (each 1 + its unsigned value, in turn; none: all
   * at once), then the connection's end. An exception is an entry too.
   */
  public static List<String> decode(
      HttpDecoderConfig config,
      boolean fastHeads,
      List<HttpMethod> methods,
      byte[] bytes,
      byte[] cuts) {
    EmbeddedChannel ch =
        new EmbeddedChannel(
            fastHeads ? new Http1ClientCodec(config) : Http1ClientCodec.nettyHeads(config));
    List<String> seen = new ArrayList<>();
    for (HttpMethod m : methods) {
      ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, m, "/x"));
      drain(ch.outboundMessages(), null);
    }
    int at = 0;
    int i = 0;
    while (at < bytes.length) {
      int n = cuts.length == 0 ? bytes.length : 1 + (cuts[i++ % cuts.length] & 0xff);
      n = Math.min(n, bytes.length - at);
      try {
        ch.writeInbound(Unpooled.wrappedBuffer(bytes, at, n));
      } catch (RuntimeException e) {
        seen.add("exception " + e);
      }
      drain(ch.inboundMessages(), seen);
      at += n;
    }
    try {
      ch.finish();
    } catch (RuntimeException e) {
      seen.add("exception " + e);
    }
    drain(ch.inboundMessages(), seen);
    drain(ch.outboundMessages(), null);
    return seen;
  }

  private static void drain(java.util.Queue<Object> q, List<String> seen) {
    Object o;
    while ((o = q.poll()) != null) {
      if (seen != null) {
        seen.add(describe(o));
      }
      ReferenceCountUtil.release(o);
    }
  }

  /** A decoded message as text: kind, start line, headers in order, content, trailers, failure. */
  public static String describe(Object o) {
    StringBuilder b = new StringBuilder();
    if (o instanceof HttpRequest r) {
      b.append("request ")
          .append(r.method())
          .append(' ')
          .append(r.uri())
          .append(' ')
          .append(r.protocolVersion());
    }
    if (o instanceof HttpResponse r) {
      b.append("response ")
          .append(r.protocolVersion())
          .append(' ')
          .append(r.status().code())
          .append(" [")
          .append(r.status().reasonPhrase())
          .append(']');
    }
    if (o instanceof HttpMessage m) {
      m.headers()
          .iteratorCharSequence()
          .forEachRemaining(
              e -> b.append(" | ").append(e.getKey()).append(": ").append(e.getValue()));
    }
    if (o instanceof HttpContent c) {
      b.append(o instanceof LastHttpContent ? " last " : " content ")
          .append(c.content().toString(StandardCharsets.ISO_8859_1));
    }
    if (o instanceof LastHttpContent l) {
      l.trailingHeaders()
          .iteratorCharSequence()
          .forEachRemaining(
              e -> b.append(" || ").append(e.getKey()).append(": ").append(e.getValue()));
    }
    if (o instanceof HttpObject h && h.decoderResult().isFailure()) {
      b.append(" failed ").append(h.decoderResult().cause());
    }
    if (o instanceof ByteBuf raw) {
      b.append("bytes ").append(raw.toString(StandardCharsets.ISO_8859_1));
    }
    return b.toString();
  }
}
