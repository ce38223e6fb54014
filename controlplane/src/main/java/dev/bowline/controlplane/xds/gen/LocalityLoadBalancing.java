package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.UInt32Value;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.Locality;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * istiod's locality load balancing on a proxy's EDS: one of {@code distribute} (locality weights
 * for the proxy's locality) or failover (priorities: same sub-zone 0, same zone 1, same region 2,
 * the region {@code failover} names 3, anywhere else 4; or by {@code failoverPriority} labels),
 * failover only when the cluster has outlier detection ("or traffic will never fail over"), and
 * nothing when the proxy's locality is unknown. Priorities are then made contiguous from 0.
 */
final class LocalityLoadBalancing {
  /** The topology labels istiod adds to workloads and proxies from their locality. */
  static final String REGION = "topology.kubernetes.io/region";

  static final String ZONE = "topology.kubernetes.io/zone";
  static final String SUBZONE = "topology.istio.io/subzone";

  private LocalityLoadBalancing() {}

  /**
   * @param endpoints the endpoints in {@code cla}, for their labels
   * @param proxyLocality the locality of the proxy the assignment is for
   * @param proxyLabels its labels
   */
  static ClusterLoadAssignment apply(
      ClusterLoadAssignment cla,
      List<Endpoint> endpoints,
      Locality proxyLocality,
      Map<String, String> proxyLabels,
      TrafficPolicy.ClusterSettings settings) {
    TrafficPolicy.LocalityLb lb =
        settings.localityLb() != null ? settings.localityLb() : TrafficPolicy.LocalityLb.DEFAULT;
    if (!lb.enabled() || proxyLocality.equals(Locality.NONE) || cla.getEndpointsCount() == 0) {
      return cla;
    }
    if (!lb.distribute().isEmpty()) {
      return distribute(cla, proxyLocality, lb.distribute());
    }
    if (settings.outlierDetection() == null) {
      return cla;
    }
    ClusterLoadAssignment.Builder b = cla.toBuilder();
    if (!lb.failoverPriority().isEmpty()) {
      b = byLabels(b, endpoints, proxyLocality, proxyLabels, lb.failoverPriority());
    } else {
      for (int i = 0; i < b.getEndpointsCount(); i++) {
        var l = b.getEndpoints(i).getLocality();
        int p = proximity(proxyLocality, l);
        if (p == 3) {
          for (TrafficPolicy.LocalityLb.Failover f : lb.failover()) {
            if (f.from().equals(proxyLocality.region())) {
              if (!l.getRegion().equals(f.to())) {
                p = 4;
              }
              break;
            }
          }
        }
        b.getEndpointsBuilder(i).setPriority(p);
      }
    }
    return compact(b).build();
  }

  /** istiod's {@code LbPriority}: 0 same sub-zone, 1 same zone, 2 same region, 3 elsewhere. */
  static int proximity(Locality proxy, io.envoyproxy.envoy.config.core.v3.Locality l) {
    if (!proxy.region().equals(l.getRegion())) {
      return 3;
    }
    if (!proxy.zone().equals(l.getZone())) {
      return 2;
    }
    return proxy.subZone().equals(l.getSubZone()) ? 0 : 1;
  }

  /** istiod's {@code LocalityMatch}: {@code region/zone/subzone} with {@code *} and omissions. */
  static boolean matches(Locality l, String rule) {
    String[] r = (rule + "//").split("/", -1);
    boolean region = r[0].equals("*") || l.region().equals(r[0]);
    boolean zone = r[1].equals("*") || r[1].isEmpty() || l.zone().equals(r[1]);
    boolean sub = r[2].equals("*") || r[2].isEmpty() || l.subZone().equals(r[2]);
    return region && zone && sub;
  }

  private static Locality of(io.envoyproxy.envoy.config.core.v3.Locality l) {
    return new Locality(l.getRegion(), l.getZone(), l.getSubZone());
  }

  /**
   * istiod's {@code applyLocalityWeights}: for the first rule whose {@code from} matches the proxy,
   * each {@code to} weight is shared by the localities it matches in proportion to their weights
   * (rounded up); localities no {@code to} matches get no endpoints.
   */
  private static ClusterLoadAssignment distribute(
      ClusterLoadAssignment cla, Locality proxy, List<TrafficPolicy.LocalityLb.Distribute> rules) {
    for (TrafficPolicy.LocalityLb.Distribute rule : rules) {
      if (!matches(proxy, rule.from())) {
        continue;
      }
      ClusterLoadAssignment.Builder b = cla.toBuilder();
      TreeSet<Integer> unmatched = new TreeSet<>();
      for (int i = 0; i < b.getEndpointsCount(); i++) {
        unmatched.add(i);
      }
      for (var to : rule.to().entrySet()) {
        Map<Integer, Integer> dest = new LinkedHashMap<>();
        long total = 0;
        for (int i : List.copyOf(unmatched)) {
          var group = b.getEndpoints(i);
          if (matches(of(group.getLocality()), to.getKey())) {
            unmatched.remove(i);
            int w = group.hasLoadBalancingWeight() ? group.getLoadBalancingWeight().getValue() : 1;
            dest.put(i, w);
            total += w;
          }
        }
        for (var d : dest.entrySet()) {
          double w = (double) d.getValue() * to.getValue() / total;
          if (w > 0) {
            b.getEndpointsBuilder(d.getKey())
                .setLoadBalancingWeight(UInt32Value.of((int) Math.ceil(w)));
          }
        }
      }
      for (int i : unmatched) {
        b.getEndpointsBuilder(i).clearLbEndpoints();
      }
      return b.build();
    }
    return cla;
  }

  /**
   * istiod's {@code applyFailoverPriorities}: an endpoint's priority is the number of labels from
   * the first one it does not share with the proxy to the end of the list (0 when it shares all);
   * each locality group splits by priority.
   */
  private static ClusterLoadAssignment.Builder byLabels(
      ClusterLoadAssignment.Builder b,
      List<Endpoint> endpoints,
      Locality proxyLocality,
      Map<String, String> proxyLabels,
      List<String> labels) {
    Map<String, String> proxy = withTopology(proxyLabels, proxyLocality);
    Map<String, Endpoint> byAddress = new HashMap<>();
    for (Endpoint e : endpoints) {
      byAddress.put(e.address() + ":" + e.port(), e);
    }
    List<LocalityLbEndpoints> out = new ArrayList<>();
    for (LocalityLbEndpoints group : b.getEndpointsList()) {
      Map<Integer, LocalityLbEndpoints.Builder> split = new java.util.TreeMap<>();
      for (LbEndpoint lbe : group.getLbEndpointsList()) {
        var sa = lbe.getEndpoint().getAddress().getSocketAddress();
        Endpoint e = byAddress.get(sa.getAddress() + ":" + sa.getPortValue());
        Map<String, String> own =
            withTopology(e == null ? Map.of() : e.labels(), of(group.getLocality()));
        int priority = 0;
        for (int j = 0; j < labels.size(); j++) {
          if (!java.util.Objects.equals(proxy.get(labels.get(j)), own.get(labels.get(j)))) {
            priority = labels.size() - j;
            break;
          }
        }
        split
            .computeIfAbsent(priority, p -> group.toBuilder().clearLbEndpoints().setPriority(p))
            .addLbEndpoints(lbe);
      }
      for (var g : split.values()) {
        out.add(g.setLoadBalancingWeight(UInt32Value.of(g.getLbEndpointsCount())).build());
      }
    }
    return b.clearEndpoints().addAllEndpoints(out);
  }

  private static Map<String, String> withTopology(Map<String, String> labels, Locality l) {
    Map<String, String> m = new HashMap<>(labels);
    m.putIfAbsent(REGION, l.region());
    m.putIfAbsent(ZONE, l.zone());
    m.putIfAbsent(SUBZONE, l.subZone());
    return m;
  }

  /** Priorities renumbered 0..n-1 in order, as Envoy requires (no gaps). */
  private static ClusterLoadAssignment.Builder compact(ClusterLoadAssignment.Builder b) {
    TreeSet<Integer> used = new TreeSet<>();
    for (var g : b.getEndpointsList()) {
      used.add(g.getPriority());
    }
    Map<Integer, Integer> renumber = new HashMap<>();
    int n = 0;
    for (int p : used) {
      renumber.put(p, n++);
    }
    for (int i = 0; i < b.getEndpointsCount(); i++) {
      b.getEndpointsBuilder(i).setPriority(renumber.get(b.getEndpoints(i).getPriority()));
    }
    return b;
  }
}
