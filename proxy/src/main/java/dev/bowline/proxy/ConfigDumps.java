package dev.bowline.proxy;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.bootstrap.SupportedTypes;
import dev.bowline.proxy.xds.XdsState;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.Comparator;

/** Builds Envoy's {@code /config_dump} from the bootstrap and the accepted xDS resources. */
final class ConfigDumps {
  private ConfigDumps() {}

  /**
   * The config dump; a dynamic listener {@code removed} names is left out (its bind after warming
   * failed, and Envoy removed it).
   */
  static String render(
      Bootstrap bootstrap,
      Timestamp started,
      XdsState xds,
      boolean includeEds,
      java.util.function.Predicate<String> removed) {
    ConfigDump.Builder dump = ConfigDump.newBuilder();
    dump.addConfigs(
        Any.pack(
            BootstrapConfigDump.newBuilder()
                .setBootstrap(bootstrap)
                .setLastUpdated(started)
                .build()));

    ClustersConfigDump.Builder clusters = ClustersConfigDump.newBuilder();
    for (Cluster c : bootstrap.getStaticResources().getClustersList()) {
      clusters.addStaticClusters(
          ClustersConfigDump.StaticCluster.newBuilder()
              .setCluster(Any.pack(c))
              .setLastUpdated(started));
    }
    ListenersConfigDump.Builder listeners = ListenersConfigDump.newBuilder();
    for (Listener l : bootstrap.getStaticResources().getListenersList()) {
      listeners.addStaticListeners(
          ListenersConfigDump.StaticListener.newBuilder()
              .setListener(Any.pack(l))
              .setLastUpdated(started));
    }
    RoutesConfigDump.Builder routes = RoutesConfigDump.newBuilder();
    EndpointsConfigDump.Builder endpoints = EndpointsConfigDump.newBuilder();
    var accepted =
        xds.protos().values().stream()
            .flatMap(byName -> byName.values().stream())
            .sorted(Comparator.comparing(XdsState.Accepted::name))
            .toList();
    for (XdsState.Accepted a : accepted) {
      Timestamp when =
          Timestamp.newBuilder()
              .setSeconds(a.acceptedAtMillis() / 1000)
              .setNanos((int) (a.acceptedAtMillis() % 1000) * 1_000_000)
              .build();
      switch (a.proto()) {
        case Cluster c ->
            clusters.addDynamicActiveClusters(
                ClustersConfigDump.DynamicCluster.newBuilder()
                    .setVersionInfo(a.version())
                    .setCluster(Any.pack(c))
                    .setLastUpdated(when));
        case Listener l when removed.test(l.getName()) -> {}
        case Listener l ->
            listeners.addDynamicListeners(
                ListenersConfigDump.DynamicListener.newBuilder()
                    .setName(l.getName())
                    .setActiveState(
                        ListenersConfigDump.DynamicListenerState.newBuilder()
                            .setVersionInfo(a.version())
                            .setListener(Any.pack(l))
                            .setLastUpdated(when)));
        case RouteConfiguration r ->
            routes.addDynamicRouteConfigs(
                RoutesConfigDump.DynamicRouteConfig.newBuilder()
                    .setVersionInfo(a.version())
                    .setRouteConfig(Any.pack(r))
                    .setLastUpdated(when));
        case ClusterLoadAssignment e ->
            endpoints.addDynamicEndpointConfigs(
                EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
                    .setVersionInfo(a.version())
                    .setEndpointConfig(Any.pack(e))
                    .setLastUpdated(when));
        default -> {}
      }
    }
    dump.addConfigs(Any.pack(clusters.build()));
    dump.addConfigs(Any.pack(listeners.build()));
    dump.addConfigs(Any.pack(routes.build()));
    if (includeEds) {
      dump.addConfigs(Any.pack(endpoints.build()));
    }
    try {
      return JsonFormat.printer()
          .usingTypeRegistry(SupportedTypes.registry())
          .preservingProtoFieldNames()
          .print(dump);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("config dump: " + e.getMessage(), e);
    }
  }
}
