package dev.bowline.proxy.tls;

/**
 * {@code envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext}.
 *
 * @param common our certificate, how clients are validated, ALPN
 * @param requireClientCertificate refuse a client that presents no certificate
 */
public record DownstreamTls(CommonTls common, boolean requireClientCertificate) {}
