package dev.bowline.proxy.bootstrap;

import com.google.protobuf.TypeRegistry;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;

/** The {@code Any} types the proxy understands, for JSON parsing and printing. */
public final class SupportedTypes {
  private SupportedTypes() {}

  /** An immutable registry of every message type that may appear inside an {@code Any}. */
  public static TypeRegistry registry() {
    return TypeRegistry.newBuilder()
        .add(Listener.getDescriptor())
        .add(RouteConfiguration.getDescriptor())
        .add(Cluster.getDescriptor())
        .add(ClusterLoadAssignment.getDescriptor())
        .add(HttpConnectionManager.getDescriptor())
        .add(TcpProxy.getDescriptor())
        .add(Router.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm.getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
                .getDescriptor())
        .add(com.google.protobuf.StringValue.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog.getDescriptor())
        .add(dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangeProto.descriptor())
        .add(HttpProtocolOptions.getDescriptor())
        // tracers (connection manager tracing.provider)
        .add(io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig.getDescriptor())
        .add(io.envoyproxy.envoy.config.trace.v3.ZipkinConfig.getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                .getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                .getDescriptor())
        .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
                .getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
                .getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector
                .getDescriptor())
        // HTTP filters and their per-route configs, retry extensions, config wrappers
        .add(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                .getDescriptor())
        .add(dev.bowline.proxy.http.filter.istioauthn.IstioAuthnProto.descriptor())
        .add(
            io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                .getDescriptor())
        .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate
                .getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3
                .PreviousPrioritiesConfig.getDescriptor())
        .add(io.envoyproxy.envoy.config.route.v3.FilterConfig.getDescriptor())
        .add(com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor())
        .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
        .add(BootstrapConfigDump.getDescriptor())
        .add(ListenersConfigDump.getDescriptor())
        .add(ClustersConfigDump.getDescriptor())
        .add(RoutesConfigDump.getDescriptor())
        .add(EndpointsConfigDump.getDescriptor())
        .build();
  }
}
