package dev.bowline.proxy.bootstrap;

import com.google.protobuf.Descriptors.Descriptor;
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
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The {@code Any} types the proxy understands, for JSON parsing and printing.
 *
 * <p>Each type is looked up by name and its descriptor built only when asked for: building the
 * descriptors of every supported extension (RBAC and its CEL, JWT, tracers, TLS, admin dumps...)
 * costs ~0.2 s of start-up and several MB of metaspace and heap that a proxy whose config uses none
 * of them never gets back (decision 0030).
 */
public final class SupportedTypes {
  private SupportedTypes() {}

  /** The full names of the message types that may appear inside an {@code Any}. */
  static final List<String> NAMES =
      List.of(
          "envoy.config.listener.v3.Listener",
          "envoy.config.route.v3.RouteConfiguration",
          "envoy.config.cluster.v3.Cluster",
          "envoy.config.endpoint.v3.ClusterLoadAssignment",
          "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
          "envoy.extensions.filters.http.router.v3.Router",
          "envoy.extensions.filters.http.wasm.v3.Wasm",
          "envoy.extensions.filters.network.wasm.v3.Wasm",
          "envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
          "google.protobuf.StringValue",
          "envoy.extensions.access_loggers.file.v3.FileAccessLog",
          "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
          "envoy.tcp.metadataexchange.config.MetadataExchange",
          "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          // connection manager request_id_extension
          "envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig",
          // connection manager original_ip_detection_extensions
          "envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig",
          "envoy.extensions.http.original_ip_detection.xff.v3.XffConfig",
          // DNS resolvers (typed_dns_resolver_config): c-ares is honoured, the others refused by
          // name
          "envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
          "envoy.extensions.network.dns_resolver.apple.v3.AppleDnsResolverConfig",
          "envoy.extensions.network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig",
          // tracers (connection manager tracing.provider)
          "envoy.config.trace.v3.OpenTelemetryConfig",
          "envoy.config.trace.v3.ZipkinConfig",
          "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
          "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
          "envoy.extensions.transport_sockets.tls.v3.Secret",
          "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer",
          "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
          "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector",
          "envoy.extensions.filters.listener.original_dst.v3.OriginalDst",
          // HTTP filters and their per-route configs, retry extensions, config wrappers
          "envoy.extensions.filters.http.fault.v3.HTTPFault",
          "envoy.extensions.filters.http.cors.v3.Cors",
          "envoy.extensions.filters.http.cors.v3.CorsPolicy",
          "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
          "istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig",
          "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig",
          "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
          "envoy.extensions.filters.http.rbac.v3.RBAC",
          "envoy.extensions.filters.http.rbac.v3.RBACPerRoute",
          "envoy.extensions.filters.network.rbac.v3.RBAC",
          "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
          "envoy.extensions.filters.network.ext_authz.v3.ExtAuthz",
          "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
          "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig",
          "envoy.config.route.v3.FilterConfig",
          "envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig",
          "envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig",
          "envoy.extensions.internal_redirect.safe_cross_scheme.v3.SafeCrossSchemeConfig",
          "udpa.type.v1.TypedStruct",
          "xds.type.v3.TypedStruct",
          "envoy.admin.v3.BootstrapConfigDump",
          "envoy.admin.v3.ListenersConfigDump",
          "envoy.admin.v3.ClustersConfigDump",
          "envoy.admin.v3.RoutesConfigDump",
          "envoy.admin.v3.EndpointsConfigDump");

  /**
   * The descriptor of supported type {@code fullName}, or null if it is not one of {@link #NAMES}.
   * A switch, so that only the asked-for type's generated class is loaded and initialised.
   */
  static @Nullable Descriptor descriptor(String fullName) {
    return switch (fullName) {
      case "envoy.config.listener.v3.Listener" -> Listener.getDescriptor();
      case "envoy.config.route.v3.RouteConfiguration" -> RouteConfiguration.getDescriptor();
      case "envoy.config.cluster.v3.Cluster" -> Cluster.getDescriptor();
      case "envoy.config.endpoint.v3.ClusterLoadAssignment" ->
          ClusterLoadAssignment.getDescriptor();
      case "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager" ->
          HttpConnectionManager.getDescriptor();
      case "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy" -> TcpProxy.getDescriptor();
      case "envoy.extensions.filters.http.router.v3.Router" -> Router.getDescriptor();
      case "envoy.extensions.filters.http.wasm.v3.Wasm" ->
          io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm.getDescriptor();
      case "envoy.extensions.filters.network.wasm.v3.Wasm" ->
          io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm.getDescriptor();
      case "envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter" ->
          io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
              .getDescriptor();
      case "google.protobuf.StringValue" -> com.google.protobuf.StringValue.getDescriptor();
      case "envoy.extensions.access_loggers.file.v3.FileAccessLog" ->
          io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor();
      case "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog" ->
          io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog.getDescriptor();
      case "envoy.tcp.metadataexchange.config.MetadataExchange" ->
          dev.bowline.protos.MetadataExchangeProto.descriptor();
      case "envoy.extensions.upstreams.http.v3.HttpProtocolOptions" ->
          HttpProtocolOptions.getDescriptor();
      case "envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig" ->
          io.envoyproxy.envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig.getDescriptor();
      case "envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig" ->
          io.envoyproxy.envoy.extensions.http.original_ip_detection.custom_header.v3
              .CustomHeaderConfig.getDescriptor();
      case "envoy.extensions.http.original_ip_detection.xff.v3.XffConfig" ->
          io.envoyproxy.envoy.extensions.http.original_ip_detection.xff.v3.XffConfig
              .getDescriptor();
      case "envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig" ->
          io.envoyproxy.envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig
              .getDescriptor();
      case "envoy.extensions.network.dns_resolver.apple.v3.AppleDnsResolverConfig" ->
          io.envoyproxy.envoy.extensions.network.dns_resolver.apple.v3.AppleDnsResolverConfig
              .getDescriptor();
      case "envoy.extensions.network.dns_resolver.getaddrinfo.v3.GetAddrInfoDnsResolverConfig" ->
          io.envoyproxy.envoy.extensions.network.dns_resolver.getaddrinfo.v3
              .GetAddrInfoDnsResolverConfig.getDescriptor();
      case "envoy.config.trace.v3.OpenTelemetryConfig" ->
          io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig.getDescriptor();
      case "envoy.config.trace.v3.ZipkinConfig" ->
          io.envoyproxy.envoy.config.trace.v3.ZipkinConfig.getDescriptor();
      case "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext" ->
          io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
              .getDescriptor();
      case "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext" ->
          io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
              .getDescriptor();
      case "envoy.extensions.transport_sockets.tls.v3.Secret" ->
          io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.getDescriptor();
      case "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer" ->
          io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer.getDescriptor();
      case "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector" ->
          io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
              .getDescriptor();
      case "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector" ->
          io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector
              .getDescriptor();
      case "envoy.extensions.filters.listener.original_dst.v3.OriginalDst" ->
          io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst
              .getDescriptor();
      case "envoy.extensions.filters.http.fault.v3.HTTPFault" ->
          io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor();
      case "envoy.extensions.filters.http.cors.v3.Cors" ->
          io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor();
      case "envoy.extensions.filters.http.cors.v3.CorsPolicy" ->
          io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor();
      case "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication" ->
          io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
              .getDescriptor();
      case "istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig" ->
          dev.bowline.protos.IstioAuthnProto.descriptor();
      case "istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig" ->
          dev.bowline.protos.AlpnProto.descriptor();
      case "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit" ->
          io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              .getDescriptor();
      case "envoy.extensions.filters.http.rbac.v3.RBAC" ->
          io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor();
      case "envoy.extensions.filters.http.rbac.v3.RBACPerRoute" ->
          io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute.getDescriptor();
      case "envoy.extensions.filters.network.rbac.v3.RBAC" ->
          io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor();
      case "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz" ->
          io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.getDescriptor();
      case "envoy.extensions.filters.network.ext_authz.v3.ExtAuthz" ->
          io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz.getDescriptor();
      case "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate" ->
          io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate
              .getDescriptor();
      case "envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig" ->
          io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3
              .PreviousPrioritiesConfig.getDescriptor();
      case "envoy.config.route.v3.FilterConfig" ->
          io.envoyproxy.envoy.config.route.v3.FilterConfig.getDescriptor();
      case "envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig" ->
          io.envoyproxy.envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig
              .getDescriptor();
      case "envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig" ->
          io.envoyproxy.envoy.extensions.internal_redirect.allow_listed_routes.v3
              .AllowListedRoutesConfig.getDescriptor();
      case "envoy.extensions.internal_redirect.safe_cross_scheme.v3.SafeCrossSchemeConfig" ->
          io.envoyproxy.envoy.extensions.internal_redirect.safe_cross_scheme.v3
              .SafeCrossSchemeConfig.getDescriptor();
      case "udpa.type.v1.TypedStruct" -> com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor();
      case "xds.type.v3.TypedStruct" -> com.github.xds.type.v3.TypedStruct.getDescriptor();
      case "envoy.admin.v3.BootstrapConfigDump" -> BootstrapConfigDump.getDescriptor();
      case "envoy.admin.v3.ListenersConfigDump" -> ListenersConfigDump.getDescriptor();
      case "envoy.admin.v3.ClustersConfigDump" -> ClustersConfigDump.getDescriptor();
      case "envoy.admin.v3.RoutesConfigDump" -> RoutesConfigDump.getDescriptor();
      case "envoy.admin.v3.EndpointsConfigDump" -> EndpointsConfigDump.getDescriptor();
      default -> null;
    };
  }

  /** An immutable registry of every message type that may appear inside an {@code Any}. */
  public static TypeRegistry registry() {
    TypeRegistry.Builder b = TypeRegistry.newBuilder();
    for (String name : NAMES) {
      b.add(java.util.Objects.requireNonNull(descriptor(name), name));
    }
    return b.build();
  }

  /**
   * A registry that resolves the {@code Any} type URLs {@code typeUrls} as {@link #registry()}
   * does, building only what they need: the files of the named types and their dependencies. A URL
   * naming a type that is not one of the supported roots (a message nested in their files, or one
   * not supported at all) makes it the full registry, so what parses is exactly what {@link
   * #registry()} parses.
   */
  public static TypeRegistry registryFor(Collection<String> typeUrls) {
    TypeRegistry.Builder b = TypeRegistry.newBuilder();
    for (String url : typeUrls) {
      Descriptor d = descriptor(url.substring(url.lastIndexOf('/') + 1));
      if (d == null) {
        return registry();
      }
      b.add(d);
    }
    return b.build();
  }
}
