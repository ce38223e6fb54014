package dev.bowline.controlplane.dashboard;

import dev.bowline.controlplane.dashboard.MetricsWindow.SeriesKey;
import dev.bowline.controlplane.dashboard.MetricsWindow.Totals;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The service graph of one moment: an edge per (source, destination) {@link NodeRef} with its
 * traffic over the window, from Istio's {@code istio_requests_total} and {@code
 * istio_request_duration_milliseconds} series. Both sides of a call report it (Istio's {@code
 * reporter} label): an edge is taken from the destination's report when the destination's proxy
 * reported it in the window, else from the source's (a destination without a sidecar), never the
 * sum of both.
 *
 * @param at when it was computed
 * @param window the window rates are over
 * @param edges by source then destination
 * @param workloads the workload names ({@code *_workload}) seen for each node in the metrics
 */
record TrafficGraph(
    Instant at, Duration window, List<Edge> edges, Map<NodeRef, Set<String>> workloads) {
  static final String REQUESTS = "istio_requests_total";
  static final String DURATION_BUCKET = "istio_request_duration_milliseconds_bucket";

  /** An empty graph (nothing scraped yet). */
  static TrafficGraph empty(Instant at, Duration window) {
    return new TrafficGraph(at, window, List.of(), Map.of());
  }

  TrafficGraph {
    edges = List.copyOf(edges);
    TreeMap<NodeRef, Set<String>> w = new TreeMap<>();
    workloads.forEach((k, v) -> w.put(k, Set.copyOf(v)));
    workloads = Collections.unmodifiableMap(w);
  }

  /** Whether a scraped metric name is one the graph reads. */
  static boolean wanted(String name) {
    return name.equals(REQUESTS) || name.equals(DURATION_BUCKET);
  }

  /**
   * One edge.
   *
   * @param reporter {@code destination} or {@code source}: whose report it is
   * @param services destination services ({@code destination_service}) seen on it
   * @param protocols request protocols ({@code http}, {@code grpc})
   */
  record Edge(
      NodeRef source,
      NodeRef destination,
      String reporter,
      Set<String> services,
      Set<String> protocols,
      Traffic traffic) {
    Edge {
      services = Collections.unmodifiableSet(new TreeSet<>(services));
      protocols = Collections.unmodifiableSet(new TreeSet<>(protocols));
    }
  }

  private record Key(NodeRef source, NodeRef destination) {}

  private static final class Acc {
    double rps;
    double errorRps;
    double requests;
    final SortedMap<Double, Double> buckets = new TreeMap<>();
    final Set<String> services = new TreeSet<>();
    final Set<String> protocols = new TreeSet<>();
  }

  /** The graph of these per-target increases. */
  static TrafficGraph of(Map<String, Totals> totals, Instant at, Duration window) {
    Map<String, Map<Key, Acc>> byReporter = new HashMap<>();
    Map<NodeRef, Set<String>> workloads = new HashMap<>();
    for (Totals t : totals.values()) {
      if (!(t.seconds() > 0)) {
        continue;
      }
      for (Map.Entry<SeriesKey, Double> e : t.increases().entrySet()) {
        SeriesKey s = e.getKey();
        Map<String, String> l = s.labels();
        String reporter = l.getOrDefault("reporter", "");
        if (!reporter.equals("source") && !reporter.equals("destination")) {
          continue;
        }
        NodeRef src = node(l, "source_");
        NodeRef dst = node(l, "destination_");
        String svcName = l.getOrDefault("destination_service_name", "unknown");
        if (dst.equals(NodeRef.UNKNOWN) && !svcName.equals("unknown") && !svcName.isEmpty()) {
          // A destination without a sidecar: only the caller reports it; draw its service.
          dst =
              new NodeRef(
                  l.getOrDefault("destination_service_namespace", ""), svcName, NodeRef.LATEST);
        }
        remember(workloads, src, l.get("source_workload"));
        remember(workloads, dst, l.get("destination_workload"));
        Acc a =
            byReporter
                .computeIfAbsent(reporter, r -> new HashMap<>())
                .computeIfAbsent(new Key(src, dst), k -> new Acc());
        double inc = e.getValue();
        if (s.name().equals(REQUESTS)) {
          a.rps += inc / t.seconds();
          a.requests += inc;
          if (failed(l)) {
            a.errorRps += inc / t.seconds();
          }
          String svc = l.getOrDefault("destination_service", "");
          if (!svc.isEmpty() && !svc.equals("unknown")) {
            a.services.add(svc);
          }
          String protocol = l.getOrDefault("request_protocol", "");
          if (!protocol.isEmpty()) {
            a.protocols.add(protocol);
          }
        } else if (s.name().equals(DURATION_BUCKET)) {
          String le = l.get("le");
          if (le != null) {
            try {
              a.buckets.merge(PrometheusText.number(le, 0, s.name()), inc, Double::sum);
            } catch (PrometheusText.ParseException ignored) {
              // a bucket without a numeric bound is no bucket
            }
          }
        }
      }
    }
    Map<Key, Acc> dest = byReporter.getOrDefault("destination", Map.of());
    Map<Key, Acc> source = byReporter.getOrDefault("source", Map.of());
    TreeMap<String, Edge> edges = new TreeMap<>();
    Set<Key> keys = new java.util.HashSet<>(dest.keySet());
    keys.addAll(source.keySet());
    for (Key k : keys) {
      boolean fromDest = dest.containsKey(k);
      Acc a = fromDest ? dest.get(k) : source.get(k);
      Set<String> services = new TreeSet<>(a.services);
      Acc other = fromDest ? source.get(k) : null;
      if (other != null && !other.services.isEmpty()) {
        // The caller names the service from its cluster (outbound|port|subset|host); the callee
        // may only have the Host header: prefer the caller's names.
        services = new TreeSet<>(other.services);
      }
      edges.put(
          k.source().id() + ">" + k.destination().id(),
          new Edge(
              k.source(),
              k.destination(),
              fromDest ? "destination" : "source",
              services,
              a.protocols,
              new Traffic(a.rps, a.errorRps, a.requests, a.buckets)));
    }
    return new TrafficGraph(at, window, new ArrayList<>(edges.values()), workloads);
  }

  private static NodeRef node(Map<String, String> l, String side) {
    return NodeRef.of(
        l.getOrDefault(side + "workload_namespace", ""),
        l.getOrDefault(side + "workload", "unknown"),
        l.getOrDefault(side + "canonical_service", l.getOrDefault(side + "app", "")),
        l.getOrDefault(side + "canonical_revision", l.getOrDefault(side + "version", "")));
  }

  private static void remember(
      Map<NodeRef, Set<String>> workloads,
      NodeRef n,
      @org.jspecify.annotations.Nullable String workload) {
    if (n.equals(NodeRef.UNKNOWN) || workload == null || workload.equals("unknown")) {
      return;
    }
    workloads.computeIfAbsent(n, k -> new TreeSet<>()).add(workload);
  }

  /** Istio's failed request: a 5xx, no response at all (code 0), or a non-OK gRPC status. */
  static boolean failed(Map<String, String> labels) {
    String code = labels.getOrDefault("response_code", "");
    String grpc = labels.getOrDefault("grpc_response_status", "");
    if (!grpc.isEmpty() && !grpc.equals("0")) {
      return true;
    }
    return code.equals("0") || code.startsWith("5");
  }
}
