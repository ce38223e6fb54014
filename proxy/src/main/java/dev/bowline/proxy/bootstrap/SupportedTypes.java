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
        .add(com.google.protobuf.StringValue.getDescriptor())
        .add(io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.getDescriptor())
        .add(
            io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog.getDescriptor())
        .add(dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangeProto.descriptor())
        .add(HttpProtocolOptions.getDescriptor())
        .add(BootstrapConfigDump.getDescriptor())
        .add(ListenersConfigDump.getDescriptor())
        .add(ClustersConfigDump.getDescriptor())
        .add(RoutesConfigDump.getDescriptor())
        .add(EndpointsConfigDump.getDescriptor())
        .build();
  }
}
