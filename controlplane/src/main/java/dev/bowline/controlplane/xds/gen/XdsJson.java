package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.protos.IstioAuthnProto;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;

/** JSON for what the generators produce (config dumps, golden files), every nested type known. */
public final class XdsJson {
  /** Every message type generators pack into an {@code Any}, plus Envoy's admin dump types. */
  public static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(Cluster.getDescriptor())
          .add(ClusterLoadAssignment.getDescriptor())
          .add(Listener.getDescriptor())
          .add(RouteConfiguration.getDescriptor())
          .add(HttpConnectionManager.getDescriptor())
          .add(io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig.getDescriptor())
          .add(io.envoyproxy.envoy.config.trace.v3.ZipkinConfig.getDescriptor())
          .add(Router.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm.getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
                  .getDescriptor())
          .add(com.google.protobuf.StringValue.getDescriptor())
          .add(dev.bowline.protos.MetadataExchangeProto.descriptor())
          .add(
              io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                  .getDescriptor())
          .add(IstioAuthnProto.descriptor())
          .add(dev.bowline.protos.AlpnProto.descriptor())
          .add(TcpProxy.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor())
          .add(OriginalDst.getDescriptor())
          .add(PreviousHostsPredicate.getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                  .getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  .getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
                  .getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector
                  .getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector
                  .getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3
                  .PreviousPrioritiesConfig.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor())
          .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor())
          .add(
              io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                  .getDescriptor())
          .add(com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor())
          .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
          .add(ClustersConfigDump.getDescriptor())
          .add(ListenersConfigDump.getDescriptor())
          .add(RoutesConfigDump.getDescriptor())
          .add(EndpointsConfigDump.getDescriptor())
          .build();

  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().usingTypeRegistry(TYPES);

  private XdsJson() {}

  /** Envoy's JSON form of {@code message}. */
  public static String print(MessageOrBuilder message) throws InvalidProtocolBufferException {
    return PRINTER.print(message);
  }
}
