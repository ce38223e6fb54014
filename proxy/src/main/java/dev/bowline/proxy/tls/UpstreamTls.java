package dev.bowline.proxy.tls;

/**
 * {@code envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext}.
 *
 * @param common certificates, validation, ALPN
 * @param sni the server name sent, empty for none
 */
public record UpstreamTls(CommonTls common, String sni) {}
