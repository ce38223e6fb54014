package dev.bowline.proxy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.ClusterPolicy;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.listener.ListenerManager;
import dev.bowline.proxy.upstream.Worker;
import io.envoyproxy.envoy.admin.v3.ClusterStatus;
import io.envoyproxy.envoy.admin.v3.Clusters;
import io.envoyproxy.envoy.admin.v3.HostHealthStatus;
import io.envoyproxy.envoy.admin.v3.HostStatus;
import io.envoyproxy.envoy.admin.v3.ListenerStatus;
import io.envoyproxy.envoy.admin.v3.Listeners;
import io.envoyproxy.envoy.admin.v3.SimpleMetric;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.type.v3.Percent;
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
   * eds_service_name}, the circuit breakers' thresholds, {@code added_via_api} (not one of {@code
   * staticClusters}) and a host status per endpoint (those EDS removed that are kept while they
   * pass their checks included): its address, its stats (Envoy's {@code ALL_HOST_STATS}, summed
   * over {@code workers}), hostname, locality, health (EDS health, failed active health check,
   * outlier ejection, pending removal or first check), the success rate outlier detection last
   * computed (when it did), weight and priority.
   */
  static String clusters(
      ProxySnapshot snapshot,
      Set<String> staticClusters,
      dev.bowline.proxy.upstream.ClusterStates states,
      java.util.Collection<Worker> workers) {
    Clusters.Builder out = Clusters.newBuilder();
    snapshot.clusters().values().stream()
        .sorted(Comparator.comparing(ClusterConfig::name))
        .forEach(
            c -> {
              ClusterStatus.Builder cs =
                  out.addClusterStatusesBuilder()
                      .setName(c.name())
                      .setObservabilityName(c.statName());
              String eds = c.edsServiceName();
              if (eds != null && !eds.isEmpty()) {
                cs.setEdsServiceName(eds);
              }
              var breakers = cs.getCircuitBreakersBuilder();
              thresholds(breakers.addThresholdsBuilder(), c.policy().limits())
                  .setPriority(RoutingPriority.DEFAULT);
              thresholds(breakers.addThresholdsBuilder(), ClusterPolicy.Limits.DEFAULT)
                  .setPriority(RoutingPriority.HIGH);
              cs.setAddedViaApi(!staticClusters.contains(c.name()));
              for (Endpoints.Endpoint e : hosts(snapshot, c, states)) {
                String flags = states.healthFlags(c.name(), e.address());
                String[] loc = (e.locality() + "//").split("/", -1);
                HostStatus.Builder h = cs.addHostStatusesBuilder().setAddress(address(e.address()));
                Worker.HostCounts n = Worker.hostCounts(workers, c.name(), e.address());
                counter(h, "cx_connect_fail", n.cxConnectFail());
                counter(h, "cx_total", n.cxTotal());
                counter(h, "rq_error", n.rqError());
                counter(h, "rq_success", n.rqSuccess());
                counter(h, "rq_timeout", n.rqTimeout());
                counter(h, "rq_total", n.rqTotal());
                gauge(h, "cx_active", n.cxActive());
                gauge(h, "rq_active", n.rqActive());
                h.setHostname(e.hostname());
                if (!e.locality().isEmpty()) {
                  h.setLocality(
                      Locality.newBuilder().setRegion(loc[0]).setZone(loc[1]).setSubZone(loc[2]));
                }
                h.setHealthStatus(
                    HostHealthStatus.newBuilder()
                        .setFailedActiveHealthCheck(flags.contains("/failed_active_hc"))
                        .setFailedOutlierCheck(flags.contains("/failed_outlier_check"))
                        .setPendingDynamicRemoval(flags.contains("/pending_dynamic_removal"))
                        .setPendingActiveHc(flags.contains("/pending_active_hc"))
                        .setEdsHealthStatus(HealthStatus.HEALTHY));
                double rate = states.successRate(c.name(), e.address());
                if (rate >= 0) {
                  h.setSuccessRate(Percent.newBuilder().setValue(rate));
                }
                h.setWeight(e.weight()).setPriority(e.priority());
              }
            });
    return print(out);
  }

  /**
   * Envoy's {@code /clusters} text: per cluster its {@code observability_name}, the circuit
   * breakers' thresholds of both priorities, {@code added_via_api}, {@code eds_service_name}; per
   * host its stats sorted by name, then {@code hostname}, {@code health_flags}, {@code weight},
   * {@code region}, {@code zone}, {@code sub_zone}, {@code canary}, {@code priority}, {@code
   * success_rate} and {@code local_origin_success_rate} (-1 when not computed), each line {@code
   * cluster::host::name::value}.
   */
  static String clustersText(
      ProxySnapshot snapshot,
      Set<String> staticClusters,
      dev.bowline.proxy.upstream.ClusterStates states,
      java.util.Collection<Worker> workers) {
    StringBuilder sb = new StringBuilder();
    snapshot.clusters().values().stream()
        .sorted(Comparator.comparing(ClusterConfig::name))
        .forEach(
            c -> {
              String n = c.name();
              sb.append(n).append("::observability_name::").append(c.statName()).append('\n');
              breakers(sb, n, "default", c.policy().limits());
              breakers(sb, n, "high", ClusterPolicy.Limits.DEFAULT);
              sb.append(n)
                  .append("::added_via_api::")
                  .append(!staticClusters.contains(n))
                  .append('\n');
              String eds = c.edsServiceName();
              if (eds != null && !eds.isEmpty()) {
                sb.append(n).append("::eds_service_name::").append(eds).append('\n');
              }
              for (Endpoints.Endpoint e : hosts(snapshot, c, states)) {
                String h = n + "::" + e.address() + "::";
                Worker.HostCounts k = Worker.hostCounts(workers, n, e.address());
                line(sb, h, "cx_active", k.cxActive());
                line(sb, h, "cx_connect_fail", k.cxConnectFail());
                line(sb, h, "cx_total", k.cxTotal());
                line(sb, h, "rq_active", k.rqActive());
                line(sb, h, "rq_error", k.rqError());
                line(sb, h, "rq_success", k.rqSuccess());
                line(sb, h, "rq_timeout", k.rqTimeout());
                line(sb, h, "rq_total", k.rqTotal());
                line(sb, h, "hostname", e.hostname());
                line(sb, h, "health_flags", states.healthFlags(n, e.address()));
                line(sb, h, "weight", e.weight());
                String[] loc = (e.locality() + "//").split("/", -1);
                line(sb, h, "region", loc[0]);
                line(sb, h, "zone", loc[1]);
                line(sb, h, "sub_zone", loc[2]);
                line(sb, h, "canary", false);
                line(sb, h, "priority", e.priority());
                line(sb, h, "success_rate", rate(states.successRate(n, e.address())));
                line(sb, h, "local_origin_success_rate", -1);
              }
            });
    return sb.toString();
  }

  /** The endpoints of {@code c}, then those EDS removed that it keeps while they pass checks. */
  private static List<Endpoints.Endpoint> hosts(
      ProxySnapshot snapshot, ClusterConfig c, dev.bowline.proxy.upstream.ClusterStates states) {
    List<Endpoints.Endpoint> listed =
        new java.util.ArrayList<>(
            snapshot.endpointsOf(c).map(Endpoints::endpoints).orElse(List.of()));
    listed.addAll(states.kept(c.name()));
    return listed;
  }

  /**
   * A success rate as Envoy's {@code fmt} prints a double: {@code -1}, {@code 100}, {@code 87.5}.
   */
  private static String rate(double r) {
    return r == Math.rint(r) ? Long.toString((long) r) : Double.toString(r);
  }

  private static void line(StringBuilder sb, String host, String name, Object value) {
    sb.append(host).append(name).append("::").append(value).append('\n');
  }

  private static void breakers(
      StringBuilder sb, String cluster, String priority, ClusterPolicy.Limits l) {
    String p = cluster + "::" + priority + "_priority::";
    sb.append(p).append("max_connections::").append(l.maxConnections()).append('\n');
    sb.append(p).append("max_pending_requests::").append(l.maxPendingRequests()).append('\n');
    sb.append(p).append("max_requests::").append(l.maxRequests()).append('\n');
    sb.append(p).append("max_retries::").append(l.maxRetries()).append('\n');
  }

  private static CircuitBreakers.Thresholds.Builder thresholds(
      CircuitBreakers.Thresholds.Builder t, ClusterPolicy.Limits l) {
    return t.setMaxConnections(UInt32Value.of((int) Math.min(l.maxConnections(), 0xffffffffL)))
        .setMaxPendingRequests(UInt32Value.of((int) Math.min(l.maxPendingRequests(), 0xffffffffL)))
        .setMaxRequests(UInt32Value.of((int) Math.min(l.maxRequests(), 0xffffffffL)))
        .setMaxRetries(UInt32Value.of((int) Math.min(l.maxRetries(), 0xffffffffL)));
  }

  private static void counter(HostStatus.Builder h, String name, long value) {
    h.addStats(SimpleMetric.newBuilder().setName(name).setValue(value));
  }

  private static void gauge(HostStatus.Builder h, String name, long value) {
    h.addStats(
        SimpleMetric.newBuilder().setName(name).setValue(value).setType(SimpleMetric.Type.GAUGE));
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
