package dev.bowline.proxy.stats;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * One proxy's counters. Components ask for their stat group once (per cluster, listener or
 * connection manager) and keep it, so the request path never looks a name up.
 */
public final class Stats {
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ClusterStats> clusters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, VirtualClusterStats> virtualClusters =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, HttpStats> http = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, ListenerStats> listeners = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Gauge> gauges = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Histogram> histograms = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, SubscriptionStats> subscriptions =
      new ConcurrentHashMap<>();
  private final java.util.List<java.util.function.Consumer<StringBuilder>> prometheusSources =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Adds metric families that are not counters of this class (e.g. Istio's standard metrics of the
   * stats filter): {@code source} appends them to {@link #prometheus()}'s text.
   */
  public void addPrometheusSource(java.util.function.Consumer<StringBuilder> source) {
    prometheusSources.add(source);
  }

  /** The counter {@code name}, created on first use. */
  public Counter counter(String name, String promName, Map<String, String> tags) {
    Counter c = counters.get(name);
    return c != null
        ? c
        : counters.computeIfAbsent(
            name, n -> new Counter(n, promName, Map.copyOf(tags), new LongAdder()));
  }

  /**
   * The gauge {@code name}, read from {@code source}; registering the name again replaces the
   * source (a cluster's state made anew after the cluster was replaced).
   */
  public void gauge(
      String name,
      String promName,
      Map<String, String> tags,
      java.util.function.LongSupplier source) {
    gauges.put(name, new Gauge(name, promName, Map.copyOf(tags), source));
  }

  /** The histogram {@code name} (milliseconds, Envoy's default buckets), created on first use. */
  public Histogram histogram(String name, String promName, Map<String, String> tags) {
    Histogram h = histograms.get(name);
    return h != null
        ? h
        : histograms.computeIfAbsent(name, n -> new Histogram(n, promName, Map.copyOf(tags)));
  }

  /** Every gauge, sorted by name. */
  public List<Gauge> gauges() {
    List<Gauge> list = new ArrayList<>(gauges.values());
    list.sort(Comparator.comparing(Gauge::name));
    return list;
  }

  /**
   * The stats of virtual cluster {@code vcluster} of virtual host {@code vhost}: the same object
   * for the same names, so a route table pushed again keeps counting into them.
   */
  public VirtualClusterStats virtualCluster(String vhost, String vcluster) {
    String key = vhost + '\0' + vcluster;
    VirtualClusterStats s = virtualClusters.get(key);
    return s != null
        ? s
        : virtualClusters.computeIfAbsent(
            key, k -> VirtualClusterStats.create(this, vhost, vcluster));
  }

  public ClusterStats cluster(String name) {
    ClusterStats s = clusters.get(name);
    return s != null ? s : clusters.computeIfAbsent(name, n -> ClusterStats.create(this, n));
  }

  public HttpStats http(String prefix) {
    HttpStats s = http.get(prefix);
    return s != null ? s : http.computeIfAbsent(prefix, p -> HttpStats.create(this, p));
  }

  // the codecs' counters, made when a connection manager first needs them (a benign race: both
  // racers get the same counters)
  private @Nullable CodecStats http1;
  private @Nullable CodecStats http2;

  /** The HTTP/1 codec's counters ({@code http1.*}), created on first use. */
  public CodecStats http1() {
    CodecStats s = http1;
    return s != null ? s : (http1 = CodecStats.create(this, "http1"));
  }

  /** The HTTP/2 codec's counters ({@code http2.*}), created on first use. */
  public CodecStats http2() {
    CodecStats s = http2;
    return s != null ? s : (http2 = CodecStats.create(this, "http2"));
  }

  public ListenerStats listener(String address) {
    ListenerStats s = listeners.get(address);
    return s != null ? s : listeners.computeIfAbsent(address, a -> ListenerStats.create(this, a));
  }

  /**
   * The xDS subscription stats under {@code prefix} (e.g. {@code listener_manager.lds.}), created
   * on first use.
   */
  public SubscriptionStats subscription(
      String prefix, String promPrefix, Map<String, String> tags) {
    SubscriptionStats s = subscriptions.get(prefix);
    return s != null
        ? s
        : subscriptions.computeIfAbsent(
            prefix, p -> SubscriptionStats.create(this, p, promPrefix, tags));
  }

  /** Every counter, sorted by name. */
  public List<Counter> all() {
    List<Counter> list = new ArrayList<>(counters.values());
    list.sort(Comparator.comparing(Counter::name));
    return list;
  }

  /** Envoy's {@code /stats} text: {@code name: value} lines, counters and gauges by name. */
  public String text() {
    return text(name -> true);
  }

  /**
   * The {@code /stats} lines whose names {@code filter} takes (Envoy's {@code filter} parameter).
   * Values print unsigned, as Envoy's stats are {@code uint64} (a {@code version} gauge is a hash).
   */
  public String text(java.util.function.Predicate<String> filter) {
    return text(filter, "All");
  }

  /**
   * {@link #text(java.util.function.Predicate)} of the stats of Envoy's {@code type} only: {@code
   * All}, {@code Counters}, {@code Gauges}, {@code Histograms} or {@code TextReadouts} (Bowline has
   * none of the last).
   */
  public String text(java.util.function.Predicate<String> filter, String type) {
    return text(filter, type, false);
  }

  /**
   * {@link #text(java.util.function.Predicate, String)}, of the stats ever written only when {@code
   * usedOnly} (Envoy's {@code usedonly}, see {@link #used}).
   */
  public String text(java.util.function.Predicate<String> filter, String type, boolean usedOnly) {
    var lines = scalars(filter, type, usedOnly);
    StringBuilder sb = new StringBuilder();
    lines.forEach(
        (name, value) ->
            sb.append(name).append(": ").append(Long.toUnsignedString(value)).append('\n'));
    // then the histograms, by name, as Envoy's text lists them after the counters and gauges
    histograms(filter, type, usedOnly)
        .forEach((name, h) -> sb.append(name).append(": ").append(h.summary()).append('\n'));
    return sb.toString();
  }

  /**
   * Envoy's {@code /stats?format=json}: {@code {"stats":[{"name":..,"value":..},...]}}, the
   * counters and gauges by name, then one {@code {"histograms":{"supported_quantiles":[..],
   * "computed_quantiles":[{"name":..,"values":[{"interval":null,"cumulative":..},..]}]}}} when a
   * histogram is shown (Bowline keeps no flush interval: {@code interval} is null).
   */
  public String json(java.util.function.Predicate<String> filter, String type) {
    return json(filter, type, false);
  }

  /**
   * {@link #json(java.util.function.Predicate, String)}, of the used stats when {@code usedOnly}.
   */
  public String json(java.util.function.Predicate<String> filter, String type, boolean usedOnly) {
    StringBuilder sb = new StringBuilder("{\"stats\":[");
    boolean[] first = {true};
    scalars(filter, type, usedOnly)
        .forEach(
            (name, value) -> {
              sb.append(first[0] ? "" : ",").append("{\"name\":");
              jsonString(sb, name);
              sb.append(",\"value\":").append(Long.toUnsignedString(value)).append('}');
              first[0] = false;
            });
    var hs = histograms(filter, type, usedOnly);
    if (!hs.isEmpty()) {
      sb.append(first[0] ? "" : ",").append("{\"histograms\":{\"supported_quantiles\":[");
      for (int i = 0; i < Histogram.SUPPORTED_QUANTILES.length; i++) {
        sb.append(i > 0 ? "," : "");
        number(sb, Histogram.SUPPORTED_QUANTILES[i]);
      }
      sb.append("],\"computed_quantiles\":[");
      boolean firstH = true;
      for (var e : hs.entrySet()) {
        sb.append(firstH ? "" : ",").append("{\"name\":");
        jsonString(sb, e.getKey());
        sb.append(",\"values\":[");
        double[] q = e.getValue().cumulativeQuantiles();
        for (int i = 0; i < Histogram.SUPPORTED_QUANTILES.length; i++) {
          sb.append(i > 0 ? "," : "").append("{\"interval\":null,\"cumulative\":");
          if (q == null) {
            sb.append("null");
          } else {
            number(sb, q[i]);
          }
          sb.append('}');
        }
        sb.append("]}");
        firstH = false;
      }
      sb.append("]}}");
    }
    return sb.append("]}\n").toString();
  }

  /** Whether {@code type} is one of Envoy's {@code /stats?type=} values. */
  public static boolean statsType(String type) {
    return switch (type) {
      case "All", "Counters", "Gauges", "Histograms", "TextReadouts" -> true;
      default -> false;
    };
  }

  /**
   * Counters then gauges of {@code type} whose names {@code filter} takes (and, with {@code
   * usedOnly}, that were used), by name.
   */
  private java.util.TreeMap<String, Long> scalars(
      java.util.function.Predicate<String> filter, String type, boolean usedOnly) {
    var lines = new java.util.TreeMap<String, Long>();
    boolean all = type.equals("All");
    if (all || type.equals("Counters")) {
      for (Counter c : counters.values()) {
        long v = c.value();
        if (filter.test(c.name()) && (!usedOnly || used(c, v))) {
          lines.put(c.name(), v);
        }
      }
    }
    if (all || type.equals("Gauges")) {
      for (Gauge g : gauges.values()) {
        long v = g.value();
        if (filter.test(g.name()) && (!usedOnly || used(g, v))) {
          lines.put(g.name(), v);
        }
      }
    }
    return lines;
  }

  private java.util.TreeMap<String, Histogram> histograms(
      java.util.function.Predicate<String> filter, String type, boolean usedOnly) {
    var hs = new java.util.TreeMap<String, Histogram>();
    if (type.equals("All") || type.equals("Histograms")) {
      for (Histogram h : histograms.values()) {
        if (filter.test(h.name()) && (!usedOnly || h.used())) {
          hs.put(h.name(), h);
        }
      }
    }
    return hs;
  }

  // the counters /reset_counters found written: they stay "used" at zero, as Envoy's used flag
  private final java.util.Set<String> usedBeforeReset = ConcurrentHashMap.newKeySet();

  /**
   * Envoy's {@code used()} mark for {@code usedonly}, without a write on the request path to keep
   * it: a counter is used once it counted (a nonzero value, or one {@code /reset_counters} zeroed);
   * a histogram once it recorded a value; a gauge while it is not zero, or always for the server's
   * and managers' gauges ({@link #used(Gauge, long)}).
   */
  private boolean used(Counter c, long value) {
    return value != 0 || usedBeforeReset.contains(c.name());
  }

  /**
   * Whether gauge {@code g} of value {@code value} counts as used: a gauge here is read from its
   * owner, which does not say whether it ever moved, so one is used while it is not zero; Envoy's
   * {@code server.*}, {@code listener_manager.*}, {@code cluster_manager.*} and {@code
   * control_plane.*} gauges are set by their managers at start and at every stats flush, so they
   * are always used ({@code server.state} 0 is LIVE). A gauge that went up and back to zero is left
   * out, where Envoy shows it.
   */
  private static boolean used(Gauge g, long value) {
    if (value != 0) {
      return true;
    }
    String n = g.name();
    return n.startsWith("server.")
        || n.startsWith("listener_manager.")
        || n.startsWith("cluster_manager.")
        || n.startsWith("control_plane.");
  }

  /** Envoy's {@code /reset_counters}: every counter to zero (gauges and histograms kept). */
  public void resetCounters() {
    for (Counter c : counters.values()) {
      if (c.adder().sumThenReset() != 0) {
        usedBeforeReset.add(c.name());
      }
    }
  }

  private static void number(StringBuilder sb, double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      sb.append((long) v);
    } else {
      sb.append(v);
    }
  }

  private static void jsonString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (ch < 0x20) {
            sb.append(String.format("\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    sb.append('"');
  }

  /** Envoy's {@code /stats/prometheus} text exposition. */
  public String prometheus() {
    return prometheus(null, false);
  }

  /**
   * Envoy's {@code /stats/prometheus} of the stats whose Envoy names {@code filter} takes (all when
   * null) and, with {@code usedOnly}, that were used ({@link #used}); a family none of whose stats
   * is shown is left out, its {@code # TYPE} line too. The extra sources ({@link
   * #addPrometheusSource}: Istio's stats plugin) write families of their own names, which Envoy's
   * {@code filter} would match by their stat names: they are shown without a filter only (their
   * metrics exist once used).
   */
  public String prometheus(
      java.util.function.@org.jspecify.annotations.Nullable Predicate<String> filter,
      boolean usedOnly) {
    StringBuilder sb = new StringBuilder();
    List<Counter> list = new ArrayList<>();
    for (Counter c : counters.values()) {
      if ((filter == null || filter.test(c.name())) && (!usedOnly || used(c, c.value()))) {
        list.add(c);
      }
    }
    list.sort(Comparator.comparing(Counter::promName).thenComparing(Counter::name));
    String family = "";
    for (Counter c : list) {
      if (!c.promName().equals(family)) {
        family = c.promName();
        sb.append("# TYPE ").append(family).append(" counter\n");
      }
      sb.append(family);
      labels(sb, c.tags());
      sb.append(' ').append(c.value()).append('\n');
    }
    List<Gauge> gaugeList = new ArrayList<>();
    java.util.Map<Gauge, Long> values = new java.util.IdentityHashMap<>();
    for (Gauge g : gauges.values()) {
      long v = g.value();
      if ((filter == null || filter.test(g.name())) && (!usedOnly || used(g, v))) {
        gaugeList.add(g);
        values.put(g, v);
      }
    }
    gaugeList.sort(Comparator.comparing(Gauge::promName).thenComparing(Gauge::name));
    family = "";
    for (Gauge g : gaugeList) {
      if (!g.promName().equals(family)) {
        family = g.promName();
        sb.append("# TYPE ").append(family).append(" gauge\n");
      }
      sb.append(family);
      labels(sb, g.tags());
      sb.append(' ').append(Long.toUnsignedString(values.get(g))).append('\n');
    }
    List<Histogram> hs = new ArrayList<>();
    for (Histogram h : histograms.values()) {
      if ((filter == null || filter.test(h.name())) && (!usedOnly || h.used())) {
        hs.add(h);
      }
    }
    hs.sort(Comparator.comparing(Histogram::promName).thenComparing(Histogram::name));
    family = "";
    for (Histogram h : hs) {
      if (!h.promName().equals(family)) {
        family = h.promName();
        sb.append("# TYPE ").append(family).append(" histogram\n");
      }
      h.prometheus(sb);
    }
    if (filter == null) {
      for (var source : prometheusSources) {
        source.accept(sb);
      }
    }
    return sb.toString();
  }

  /** {@code {k="v",...}} with the tags sorted by name, values escaped. */
  private static void labels(StringBuilder sb, Map<String, String> tags) {
    labels(sb, tags, null);
  }

  /** {@link #labels(StringBuilder, Map)}, then {@code le="<le>"} if {@code le} is not null. */
  static void labels(
      StringBuilder sb, Map<String, String> tags, @org.jspecify.annotations.Nullable String le) {
    sb.append('{');
    boolean first = true;
    for (var e : new java.util.TreeMap<>(tags).entrySet()) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      sb.append(e.getKey())
          .append("=\"")
          .append(e.getValue().replace("\\", "\\\\").replace("\"", "\\\""))
          .append('"');
    }
    if (le != null) {
      sb.append(first ? "" : ",").append("le=\"").append(le).append('"');
    }
    sb.append('}');
  }
}
