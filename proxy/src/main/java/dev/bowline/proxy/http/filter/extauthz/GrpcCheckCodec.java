package dev.bowline.proxy.http.filter.extauthz;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code envoy.service.auth.v3.Authorization/Check} as one HTTP/2 request through the proxy's
 * cluster: the {@link CheckRequest} Envoy builds (source and destination addresses, the peer's
 * principal, the request's method, path, host, scheme, protocol and headers) framed as a gRPC
 * message, and the answer read back from the gRPC frame and {@code grpc-status}.
 */
public final class GrpcCheckCodec {
  static final String PATH = "/envoy.service.auth.v3.Authorization/Check";

  private GrpcCheckCodec() {}

  /** What the authorizer said. */
  public sealed interface Outcome {
    /** Allowed, with the headers to change upstream and to add to the client's response. */
    record Ok(
        List<Map.Entry<String, String>> upstreamSet,
        List<Map.Entry<String, String>> upstreamAppend,
        List<String> upstreamRemove,
        List<Map.Entry<String, String>> toClient)
        implements Outcome {}

    /** Denied, with the answer for the client. */
    record Denied(int status, String body, List<Map.Entry<String, String>> headers)
        implements Outcome {}

    /** No usable answer. */
    record Failed(String reason) implements Outcome {}
  }

  /**
   * The request body a check carries ({@code with_request_body}).
   *
   * @param bytes the body's first {@code max_request_bytes} at most
   * @param partial whether the stream had more than {@code bytes}
   * @param packAsBytes whether it goes as {@code raw_body} rather than the {@code body} string
   */
  record Body(io.netty.buffer.ByteBuf bytes, boolean partial, boolean packAsBytes) {}

  /** The check of {@code request} for {@code g} (with {@code body} when not null), for gRPC. */
  static FullHttpRequest request(
      ExtAuthzConfig.GrpcCheck g,
      HttpRequest request,
      StreamInfo info,
      @org.jspecify.annotations.Nullable Body body,
      Map<String, String> contextExtensions) {
    return frame(
        g.authority(), g.timeout(), checkRequest(g, request, info, body, contextExtensions));
  }

  /** {@code check} as a gRPC request to {@code authority} with deadline {@code timeout}. */
  public static FullHttpRequest frame(
      String authority, java.time.Duration timeout, CheckRequest check) {
    byte[] msg = check.toByteArray();
    ByteBuffer frame = ByteBuffer.allocate(5 + msg.length);
    frame.put((byte) 0).putInt(msg.length).put(msg).flip();
    FullHttpRequest r =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1, HttpMethod.POST, PATH, Unpooled.wrappedBuffer(frame));
    r.headers()
        .set("host", authority)
        .set("content-type", "application/grpc")
        .set("te", "trailers")
        .set("content-length", String.valueOf(5 + msg.length));
    if (!timeout.isZero()) {
      r.headers().set("grpc-timeout", timeout.toMillis() + "m");
    }
    return r;
  }

  static CheckRequest checkRequest(
      ExtAuthzConfig.GrpcCheck g,
      HttpRequest request,
      StreamInfo info,
      @org.jspecify.annotations.Nullable Body body,
      Map<String, String> contextExtensions) {
    String host = request.headers().get("host", "");
    String uri = request.uri();
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":authority", host);
    headers.put(":method", request.method().name());
    headers.put(":path", uri);
    for (var e : request.headers()) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (name.equals("host") || name.equals(ExtAuthzFilter.PARTIAL_BODY)) {
        continue; // a client's own partial-body header never reaches the authorizer (Envoy)
      }
      if (!g.allowedHeaders().isEmpty() && !ExtAuthzConfig.anyMatch(g.allowedHeaders(), name)) {
        continue;
      }
      headers.merge(name, e.getValue(), (a, b) -> a + "," + b); // Envoy joins repeated headers
    }
    AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder();
    if (body != null) {
      headers.put(ExtAuthzFilter.PARTIAL_BODY, body.partial() ? "true" : "false");
      var bytes = body.bytes();
      if (body.packAsBytes()) {
        http.setRawBody(com.google.protobuf.UnsafeByteOperations.unsafeWrap(bytes.nioBuffer()));
      } else {
        http.setBody(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    int q = uri.indexOf('?');
    var peer = info.downstreamTlsPeer();
    AttributeContext.Peer.Builder source =
        AttributeContext.Peer.newBuilder().setAddress(address(info.downstreamDirectRemote()));
    if (peer != null) {
      source.setPrincipal(peer.principal());
    }
    Instant now = Instant.now();
    return CheckRequest.newBuilder()
        .setAttributes(
            AttributeContext.newBuilder()
                .putAllContextExtensions(contextExtensions)
                .setSource(source)
                .setDestination(
                    AttributeContext.Peer.newBuilder().setAddress(address(info.downstreamLocal())))
                .setRequest(
                    AttributeContext.Request.newBuilder()
                        .setTime(
                            Timestamp.newBuilder()
                                .setSeconds(now.getEpochSecond())
                                .setNanos(now.getNano()))
                        .setHttp(
                            http.setId(request.headers().get("x-request-id", ""))
                                .setMethod(request.method().name())
                                .putAllHeaders(headers)
                                .setPath(uri)
                                .setHost(host)
                                .setScheme(peer != null ? "https" : "http")
                                .setQuery(q < 0 ? "" : uri.substring(q + 1))
                                .setProtocol(request.protocolVersion().text())
                                .setSize(body == null ? -1 : info.bytesReceived()))))
        .build();
  }

  /** An Envoy address of {@code a} (empty when unknown). */
  public static Address address(java.net.@org.jspecify.annotations.Nullable InetSocketAddress a) {
    if (a == null) {
      return Address.getDefaultInstance();
    }
    return Address.newBuilder()
        .setSocketAddress(
            SocketAddress.newBuilder()
                .setAddress(a.getAddress().getHostAddress())
                .setPortValue(a.getPort()))
        .build();
  }

  /** The outcome of the answer {@code status}/{@code headers}/{@code body}/{@code trailers}. */
  public static Outcome response(
      int status, HttpHeaders headers, byte[] body, HttpHeaders trailers) {
    if (status != 200) {
      return new Outcome.Failed("authorizer answered HTTP " + status);
    }
    String grpcStatus = trailers.get("grpc-status", headers.get("grpc-status"));
    if (grpcStatus == null) {
      return new Outcome.Failed("no grpc-status");
    }
    if (!grpcStatus.equals("0")) {
      return new Outcome.Failed(
          "grpc-status "
              + grpcStatus
              + " "
              + trailers.get("grpc-message", headers.get("grpc-message", "")));
    }
    CheckResponse r;
    try {
      r = CheckResponse.parseFrom(unframe(body));
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      return new Outcome.Failed("bad CheckResponse: " + e.getMessage());
    }
    if (r.getStatus().getCode() == 0) {
      var ok = r.getOkResponse();
      List<Map.Entry<String, String>> set = new ArrayList<>();
      List<Map.Entry<String, String>> append = new ArrayList<>();
      for (HeaderValueOption h : ok.getHeadersList()) {
        // Envoy's ext_authz: append set and true appends, otherwise the header is replaced
        (h.hasAppend() && h.getAppend().getValue() ? append : set).add(entry(h));
      }
      List<Map.Entry<String, String>> toClient = new ArrayList<>();
      for (HeaderValueOption h : ok.getResponseHeadersToAddList()) {
        toClient.add(entry(h));
      }
      List<String> remove = new ArrayList<>();
      for (String name : ok.getHeadersToRemoveList()) {
        String n = name.toLowerCase(Locale.ROOT);
        if (!n.startsWith(":") && !n.equals("host")) {
          remove.add(n);
        }
      }
      return new Outcome.Ok(set, append, remove, toClient);
    }
    var denied = r.getDeniedResponse();
    int code = denied.getStatus().getCodeValue();
    List<Map.Entry<String, String>> h = new ArrayList<>();
    for (HeaderValueOption o : denied.getHeadersList()) {
      h.add(entry(o));
    }
    return new Outcome.Denied(code < 200 || code > 599 ? 403 : code, denied.getBody(), h);
  }

  private static Map.Entry<String, String> entry(HeaderValueOption h) {
    return Map.entry(h.getHeader().getKey().toLowerCase(Locale.ROOT), h.getHeader().getValue());
  }

  /** The message of one gRPC frame (uncompressed). */
  private static byte[] unframe(byte[] body) {
    if (body.length < 5) {
      throw new IllegalArgumentException("short gRPC frame (" + body.length + " bytes)");
    }
    if (body[0] != 0) {
      throw new IllegalArgumentException("compressed gRPC frame");
    }
    int len = ByteBuffer.wrap(body, 1, 4).getInt();
    if (len != body.length - 5) {
      throw new IllegalArgumentException("gRPC frame of " + len + " bytes in " + body.length);
    }
    return java.util.Arrays.copyOfRange(body, 5, body.length);
  }
}
