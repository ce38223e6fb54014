package dev.bowline.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Responses the proxy makes itself, shaped like Envoy's: {@code text/plain} body, {@code server}
 * header; for gRPC requests a trailers-only response with {@code grpc-status} and {@code
 * grpc-message} mapped from the HTTP status as Envoy maps it.
 */
final class LocalReply {
  private LocalReply() {}

  static FullHttpResponse build(
      ByteBufAllocator alloc, int status, String body, String server, boolean grpc) {
    return build(alloc, status, body, server, grpc, TEXT_PLAIN);
  }

  private static final String TEXT_PLAIN = HttpHeaderValues.TEXT_PLAIN.toString();

  /**
   * The reply {@code local_reply_config} rewrote ({@link LocalReplyMapper#rewrite}): Envoy's {@code
   * prepareLocalReply} rewrites before the gRPC conversion, so a gRPC reply's {@code grpc-status}
   * and {@code grpc-message} come from the rewritten status and body; the mapper's headers go on
   * the reply (a {@code content-type} among them wins).
   */
  static FullHttpResponse build(
      ByteBufAllocator alloc, LocalReplyMapper.Reply m, String server, boolean grpc) {
    FullHttpResponse r = build(alloc, m.status(), m.body(), server, grpc, m.contentType());
    for (String name : m.headers().names()) {
      r.headers().set(name, m.headers().getAll(name));
    }
    return r;
  }

  static FullHttpResponse build(
      ByteBufAllocator alloc,
      int status,
      String body,
      String server,
      boolean grpc,
      String contentType) {
    if (grpc) {
      FullHttpResponse r =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, alloc.buffer(0));
      r.headers()
          .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
          .set("grpc-status", grpcStatus(status))
          .set("grpc-message", body)
          .set(HttpHeaderNames.CONTENT_LENGTH, 0)
          .set(HttpHeaderNames.SERVER, server);
      return r;
    }
    ByteBuf content = alloc.buffer(body.length());
    content.writeCharSequence(body, StandardCharsets.UTF_8);
    FullHttpResponse r =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
    if (content.readableBytes() > 0) {
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    r.headers()
        .set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
        .set(HttpHeaderNames.SERVER, server);
    return r;
  }

  /** Envoy's {@code Grpc::Utility::httpToGrpcStatus}. */
  static int grpcStatus(int http) {
    return switch (http) {
      case 400 -> 13; // INTERNAL
      case 401 -> 16; // UNAUTHENTICATED
      case 403 -> 7; // PERMISSION_DENIED
      case 404 -> 12; // UNIMPLEMENTED
      case 429, 502, 503, 504 -> 14; // UNAVAILABLE
      default -> 2; // UNKNOWN
    };
  }
}
