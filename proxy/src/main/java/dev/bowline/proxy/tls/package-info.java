/**
 * TLS for the proxy: Envoy's {@code envoy.transport_sockets.tls} contexts as immutable config
 * ({@link dev.bowline.proxy.tls.UpstreamTls}, {@link dev.bowline.proxy.tls.DownstreamTls}), secrets
 * from static config or SDS ({@link dev.bowline.proxy.tls.SecretStore}, {@link
 * dev.bowline.proxy.tls.SdsClient}), Netty SSL contexts built from them ({@link
 * dev.bowline.proxy.tls.TlsContexts}, BoringSSL via netty-tcnative where available), SAN checks,
 * and the {@code tls_inspector}/{@code http_inspector} listener filters ({@link
 * dev.bowline.proxy.tls.ConnectionInspector}).
 */
@NullMarked
package dev.bowline.proxy.tls;

import org.jspecify.annotations.NullMarked;
