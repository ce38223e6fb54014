package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * LDS for proxyless gRPC clients, as istiod's grpc generator: one listener per requested target
 * authority, named exactly as requested, holding an {@code api_listener} HTTP connection manager
 * that takes its routes over RDS (named like the listener): the fault filter, then the router.
 */
final class GrpcListenerGenerator implements XdsGenerator {
  static final String ROUTER_FILTER = "envoy.filters.http.router";

  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> out = new TreeMap<>();
    // gRPC clients always name their targets; a wildcard asks for nothing we could name.
    for (String name : names.names()) {
      GrpcTarget.resolve(name, proxy, push).ifPresent(t -> out.put(name, listener(name)));
    }
    return out;
  }

  private static Listener listener(String name) {
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix(name)
            .setRds(Rds.newBuilder().setConfigSource(ClusterGenerator.ADS).setRouteConfigName(name))
            // As istiod's grpc generator: the fault filter, configured per route by a
            // VirtualService fault (empty here: no fault unless a route says so).
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName(HttpRoutes.FAULT_FILTER)
                    .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance())))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName(ROUTER_FILTER)
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    return Listener.newBuilder()
        .setName(name)
        .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm)))
        .build();
  }
}
