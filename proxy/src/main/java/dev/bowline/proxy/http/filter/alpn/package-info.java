/**
 * {@code istio.alpn}: istio-proxy's ALPN override filter ({@code
 * istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig}). For each request it tells the router
 * which ALPN to offer on the upstream TLS connection, by the upstream HTTP protocol, so that the
 * server sidecar can pick its HTTP filter chain by ALPN ({@code istio-http/1.1}, {@code istio-h2}).
 */
@NullMarked
package dev.bowline.proxy.http.filter.alpn;

import org.jspecify.annotations.NullMarked;
