package dev.bowline.proxy.http.filter;

import java.util.List;

/**
 * The ALPN to offer on a stream's TLS upstream connection instead of the cluster's own ({@link
 * StreamInfo#UPSTREAM_ALPN}), by the HTTP protocol the cluster uses upstream for this stream. An
 * empty list leaves the cluster's ALPN alone. Envoy never speaks HTTP/1.0 upstream (it upgrades to
 * HTTP/1.1), so there is no list for it.
 *
 * @param http11 offered when the upstream connection is HTTP/1.1
 * @param http2 offered when the upstream connection is HTTP/2
 */
public record UpstreamAlpn(List<String> http11, List<String> http2) {
  public UpstreamAlpn {
    http11 = List.copyOf(http11);
    http2 = List.copyOf(http2);
  }

  /** The list for an HTTP/2 ({@code http2}) or HTTP/1.1 upstream. */
  public List<String> forUpstream(boolean http2) {
    return http2 ? this.http2 : http11;
  }
}
