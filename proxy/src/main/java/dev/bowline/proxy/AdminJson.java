package dev.bowline.proxy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.listener.ListenerManager;
import io.envoyproxy.envoy.admin.v3.ClusterStatus;
import io.envoyproxy.envoy.admin.v3.Clusters;
import io.envoyproxy.envoy.admin.v3.HostHealthStatus;
import io.envoyproxy.envoy.admin.v3.HostStatus;
import io.envoyproxy.envoy.admin.v3.ListenerStatus;
import io.envoyproxy.envoy.admin.v3.Listeners;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The admin's JSON forms of {@code /clusters} and {@code /listeners}: Envoy's {@code
 * envoy.admin.v3.Clusters} and {@code Listeners} messages, printed as Envoy prints them (proto3
 * JSON, pretty, default values left out), which is what {@code istioctl proxy-config endpoint}
 * reads.
 */
final class AdminJson {
  private AdminJson() {}

  /**
   * Each cluster of {@code snapshot} by name: {@code name}, {@code observability_name}, {@code
   * added_via_api} (not one of {@code staticClusters}) and a host status per endpoint: its address,
   * health (EDS health, failed active health check, outlier ejection), weight, locality, hostname
   * and priority. Bowline keeps no per-host counters, so a host has no {@code stats}.
   */
  static String clusters(
      ProxySnapshot snapshot,
      Set<String> staticClusters,
      dev.bowline.proxy.upstream.ClusterStates states) {
    Clusters.Builder out = Clusters.newBuilder();
    snapshot.clusters().values().stream()
        .sorted(Comparator.comparing(ClusterConfig::name))
        .forEach(
            c -> {
              ClusterStatus.Builder cs =
                  out.addClusterStatusesBuilder()
                      .setName(c.name())
                      .setObservabilityName(c.statName())
                      .setAddedViaApi(!staticClusters.contains(c.name()));
              for (Endpoints.Endpoint e :
                  snapshot.endpointsOf(c).map(Endpoints::endpoints).orElse(List.of())) {
                String flags = states.healthFlags(c.name(), e.address());
                String[] loc = (e.locality() + "//").split("/", -1);
                HostStatus.Builder h =
                    cs.addHostStatusesBuilder()
                        .setAddress(address(e.address()))
                        .setHealthStatus(
                            HostHealthStatus.newBuilder()
                                .setFailedActiveHealthCheck(flags.contains("/failed_active_hc"))
                                .setFailedOutlierCheck(flags.contains("/failed_outlier_check"))
                                .setEdsHealthStatus(HealthStatus.HEALTHY))
                        .setWeight(e.weight())
                        .setHostname(e.hostname())
                        .setPriority(e.priority());
                if (!e.locality().isEmpty()) {
                  h.setLocality(
                      Locality.newBuilder().setRegion(loc[0]).setZone(loc[1]).setSubZone(loc[2]));
                }
              }
            });
    return print(out);
  }

  /** Each bound listener: {@code name} and {@code local_address}. */
  static String listeners(List<ListenerManager.Bound> bound) {
    Listeners.Builder out = Listeners.newBuilder();
    for (var b : bound) {
      out.addListenerStatuses(
          ListenerStatus.newBuilder()
              .setName(b.name())
              .setLocalAddress(
                  address(
                      new SocketAddr(
                          b.address().getAddress().getHostAddress(), b.address().getPort()))));
    }
    return print(out);
  }

  private static Address address(SocketAddr a) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(a.ip()).setPortValue(a.port()))
        .build();
  }

  private static String print(MessageOrBuilder m) {
    try {
      return JsonFormat.printer().preservingProtoFieldNames().print(m) + "\n";
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
