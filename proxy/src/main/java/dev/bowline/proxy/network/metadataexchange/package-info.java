/**
 * istio-proxy's TCP metadata exchange ({@code envoy.filters.network.metadata_exchange}, config
 * {@code envoy.tcp.metadataexchange.config.MetadataExchange}): when the TLS handshake negotiated
 * the configured ALPN ({@code istio-peer-exchange}), each side sends a framed Struct of its node
 * metadata ahead of the application's bytes and takes the peer's off the stream.
 */
@NullMarked
package dev.bowline.proxy.network.metadataexchange;

import org.jspecify.annotations.NullMarked;
