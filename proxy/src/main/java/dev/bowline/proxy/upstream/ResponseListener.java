package dev.bowline.proxy.upstream;

import io.netty.handler.codec.http.HttpObject;

/** Receives what an upstream HTTP/1.1 connection reads for the request it is serving. */
public interface ResponseListener {
  /** A response head, content or last content (ownership passes to the listener). */
  void onUpstreamObject(HttpObject msg);

  /** The connection closed or failed before the response ended. */
  void onUpstreamReset(String reason);

  /**
   * Whether the request came over HTTP/2 (clusters with {@code use_downstream_protocol_config} then
   * use HTTP/2 upstream too).
   */
  default boolean downstreamHttp2() {
    return false;
  }

  /**
   * The ALPN to offer instead of the cluster's when the connection to the host is TLS, for an
   * HTTP/2 ({@code http2}) or HTTP/1.1 upstream; empty (the default) keeps the cluster's. Such
   * requests use connections of their own, pooled per list.
   */
  default java.util.List<String> upstreamAlpn(boolean http2) {
    return java.util.List.of();
  }

  /**
   * The server name of this request for {@code auto_sni} / {@code auto_san_validation}: the host of
   * its {@code :authority}, or of {@code overrideHeader} when not null, without the port; null (the
   * default) when absent or an IP address (Envoy sets no SNI for those).
   */
  default @org.jspecify.annotations.Nullable String upstreamServerName(
      io.netty.util.@org.jspecify.annotations.Nullable AsciiString overrideHeader) {
    return null;
  }

  /** The upstream can take more request bytes ({@code true}) or wants a pause. */
  default void onUpstreamWritabilityChanged(boolean writable) {}
}
