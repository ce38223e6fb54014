package dev.bowline.controlplane.xds.gen.telemetry;

import dev.bowline.api.Resource;
import dev.bowline.api.mesh.ExtensionProvider;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.Telemetry;
import dev.bowline.api.model.Telemetry.MetricSelector.IstioMetric;
import dev.bowline.api.model.Telemetry.WorkloadMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The Telemetry API (telemetry.istio.io) for one proxy, as istiod resolves it: the mesh-wide
 * resource (root namespace, no selector), then the proxy's namespace-wide one, then workload ones
 * whose selector matches the proxy's labels; a more specific level's providers replace the less
 * specific ones, metric overrides apply in level order, the most specific {@code disabled} wins.
 * Providers are MeshConfig {@code extensionProviders}; without Telemetry, {@code defaultProviders}
 * and {@code accessLogFile}/{@code accessLogEncoding}/{@code accessLogFormat} apply. Within a
 * level, resources are taken oldest name first (istiod: creation time).
 */
public final class TelemetryResolver {
  private static final Map<IstioMetric, String> STATS_NAMES =
      Map.of(
          IstioMetric.REQUEST_COUNT, "requests_total",
          IstioMetric.REQUEST_DURATION, "request_duration_milliseconds",
          IstioMetric.REQUEST_SIZE, "request_bytes",
          IstioMetric.RESPONSE_SIZE, "response_bytes");

  private TelemetryResolver() {}

  /**
   * The telemetry of a proxy in {@code namespace} with {@code labels}.
   *
   * @param telemetries every Telemetry resource in force
   */
  public static EffectiveTelemetry resolve(
      MeshConfig mesh,
      List<Resource<Telemetry>> telemetries,
      String namespace,
      Map<String, String> labels) {
    String root = mesh.rootNamespace() == null ? "istio-system" : mesh.rootNamespace();
    List<Resource<Telemetry>> levels = new ArrayList<>();
    List<Resource<Telemetry>> sorted = new ArrayList<>(telemetries);
    sorted.sort(Comparator.comparing(Resource::name));
    first(sorted, t -> t.namespace().equals(root) && unselected(t.spec()), levels);
    if (!namespace.equals(root)) {
      first(sorted, t -> t.namespace().equals(namespace) && unselected(t.spec()), levels);
    }
    first(
        sorted,
        t ->
            t.namespace().equals(namespace)
                && t.spec().selector() != null
                && labels.entrySet().containsAll(t.spec().selector().matchLabels().entrySet()),
        levels);

    Map<String, ExtensionProvider> providers = new LinkedHashMap<>();
    for (ExtensionProvider p : mesh.extensionProviders()) {
      if (p.name() != null) {
        providers.put(p.name(), p);
      }
    }
    List<String> warnings = new ArrayList<>();
    var defaults = mesh.defaultProviders();

    // Metrics: which providers, then overrides for the Prometheus one.
    List<String> metricProviders =
        defaults == null ? List.of("prometheus") : List.copyOf(defaults.metrics());
    Side client = new Side();
    Side server = new Side();
    for (Resource<Telemetry> t : levels) {
      for (int i = 0; i < t.spec().metrics().size(); i++) {
        var m = t.spec().metrics().get(i);
        String field = where(t) + "spec.metrics[" + i + "]";
        if (!m.providers().isEmpty()) {
          metricProviders = m.providers().stream().map(Telemetry.ProviderRef::name).toList();
        }
        boolean forPrometheus =
            m.providers().isEmpty()
                || m.providers().stream().anyMatch(p -> isPrometheus(providers.get(p.name())));
        if (!forPrometheus) {
          continue;
        }
        for (int o = 0; o < m.overrides().size(); o++) {
          applyOverride(
              m.overrides().get(o), field + ".overrides[" + o + "]", client, server, warnings);
        }
      }
    }
    boolean prometheus = metricProviders.stream().anyMatch(n -> isPrometheus(providers.get(n)));

    // Access logs.
    Logs clientLogs = new Logs();
    Logs serverLogs = new Logs();
    for (Resource<Telemetry> t : levels) {
      for (int i = 0; i < t.spec().accessLogging().size(); i++) {
        var a = t.spec().accessLogging().get(i);
        String field = where(t) + "spec.accessLogging[" + i + "]";
        WorkloadMode mode = a.match() == null ? null : a.match().mode();
        for (Logs side : sides(mode, clientLogs, serverLogs)) {
          side.configured = true;
          if (!a.providers().isEmpty()) {
            side.providers = a.providers().stream().map(Telemetry.ProviderRef::name).toList();
          }
          if (a.disabled() != null) {
            side.disabled = a.disabled();
          }
          if (a.filter() != null && a.filter().expression() != null) {
            // the most specific level's filter wins, as istiod's merge of accessLogging
            side.filter = a.filter().expression();
          }
        }
      }
    }
    List<AccessLogSink> legacy = legacy(mesh);
    List<String> defaultLogProviders = defaults == null ? List.of() : defaults.accessLogging();
    List<AccessLogSink> clientSinks =
        clientLogs.filtered(clientLogs.sinks(providers, defaultLogProviders, legacy, warnings));
    List<AccessLogSink> serverSinks =
        serverLogs.filtered(serverLogs.sinks(providers, defaultLogProviders, legacy, warnings));

    // Tracing (istiod's Telemetries.Tracing): nothing to resolve without Telemetry and a default
    // provider; else the default provider, then each level's tracing entries per side.
    List<String> defaultTracing = defaults == null ? List.of() : defaults.tracing();
    if (levels.isEmpty() && defaultTracing.isEmpty()) {
      return new EffectiveTelemetry(
          prometheus ? client.overrides() : new StatsOverrides(true, Map.of()),
          prometheus ? server.overrides() : new StatsOverrides(true, Map.of()),
          clientSinks,
          serverSinks,
          warnings);
    }
    Trace clientTrace = new Trace();
    Trace serverTrace = new Trace();
    if (!defaultTracing.isEmpty()) {
      ExtensionProvider p =
          tracingProvider(
              providers, defaultTracing.getFirst(), "meshConfig.defaultProviders", warnings);
      clientTrace.provider = p;
      serverTrace.provider = p;
    }
    for (Resource<Telemetry> t : levels) {
      for (int i = 0; i < t.spec().tracing().size(); i++) {
        var tr = t.spec().tracing().get(i);
        String field = where(t) + "spec.tracing[" + i + "]";
        WorkloadMode mode = tr.match() == null ? null : tr.match().mode();
        List<Trace> sides =
            mode == null || mode == WorkloadMode.CLIENT_AND_SERVER
                ? List.of(clientTrace, serverTrace)
                : mode == WorkloadMode.CLIENT ? List.of(clientTrace) : List.of(serverTrace);
        ExtensionProvider p =
            tr.providers().isEmpty()
                ? null
                : tracingProvider(
                    providers, tr.providers().getFirst().name(), field + ".providers[0]", warnings);
        if (tr.providers().size() > 1) {
          warnings.add(field + ".providers: only the first provider is used (as istiod does)");
        }
        for (Trace side : sides) {
          if (!tr.providers().isEmpty()) {
            side.provider = p;
          }
          if (tr.randomSamplingPercentage() != null) {
            side.sampling = tr.randomSamplingPercentage();
          }
          if (tr.disableSpanReporting() != null) {
            side.disabled = tr.disableSpanReporting();
          }
          side.tags.putAll(tr.customTags());
        }
      }
    }
    return new EffectiveTelemetry(
        prometheus ? client.overrides() : new StatsOverrides(true, Map.of()),
        prometheus ? server.overrides() : new StatsOverrides(true, Map.of()),
        clientSinks,
        serverSinks,
        warnings,
        clientTrace.spec(),
        serverTrace.spec());
  }

  /** The tracing provider {@code name}, or null (with a warning) when it is not one. */
  private static @Nullable ExtensionProvider tracingProvider(
      Map<String, ExtensionProvider> all, String name, String field, List<String> warnings) {
    ExtensionProvider p = all.get(name);
    if (p == null) {
      warnings.add(
          field + ": tracing provider '" + name + "' is not in meshConfig.extensionProviders");
      return null;
    }
    if (p.zipkin() == null && p.opentelemetry() == null) {
      warnings.add(
          field
              + ": tracing provider '"
              + name
              + "': only zipkin and opentelemetry are supported; tracing is off");
      return null;
    }
    return p;
  }

  /** One side's tracing as the levels leave it. */
  private static final class Trace {
    @Nullable ExtensionProvider provider;
    @Nullable Double sampling;
    boolean disabled;
    final Map<String, Telemetry.Tracing.CustomTag> tags = new LinkedHashMap<>();

    TracingSpec spec() {
      return new TracingSpec(provider, sampling, disabled || provider == null, tags);
    }
  }

  private static String where(Resource<Telemetry> t) {
    return "Telemetry " + t.namespace() + "/" + t.name() + ": ";
  }

  private static boolean unselected(Telemetry t) {
    return t.selector() == null && t.targetRef() == null && t.targetRefs().isEmpty();
  }

  private static void first(
      List<Resource<Telemetry>> all,
      java.util.function.Predicate<Resource<Telemetry>> p,
      List<Resource<Telemetry>> out) {
    all.stream().filter(p).findFirst().ifPresent(out::add);
  }

  private static boolean isPrometheus(@Nullable ExtensionProvider p) {
    return p != null && p.prometheus() != null;
  }

  private static List<Side> sidesOf(@Nullable WorkloadMode mode, Side client, Side server) {
    if (mode == null || mode == WorkloadMode.CLIENT_AND_SERVER) {
      return List.of(client, server);
    }
    return mode == WorkloadMode.CLIENT ? List.of(client) : List.of(server);
  }

  private static List<Logs> sides(@Nullable WorkloadMode mode, Logs client, Logs server) {
    if (mode == null || mode == WorkloadMode.CLIENT_AND_SERVER) {
      return List.of(client, server);
    }
    return mode == WorkloadMode.CLIENT ? List.of(client) : List.of(server);
  }

  private static void applyOverride(
      Telemetry.MetricsOverrides o, String field, Side client, Side server, List<String> warnings) {
    var match = o.match();
    if (match != null && match.customMetric() != null) {
      warnings.add(field + ".match.customMetric: custom metrics are not supported yet");
      return;
    }
    IstioMetric metric =
        match == null || match.metric() == null ? IstioMetric.ALL_METRICS : match.metric();
    String name;
    if (metric == IstioMetric.ALL_METRICS) {
      name = "";
    } else {
      name = STATS_NAMES.get(metric);
      if (name == null) {
        warnings.add(
            field + ".match.metric: " + metric + " is not reported yet (HTTP metrics only)");
        return;
      }
    }
    Set<String> remove = new HashSet<>();
    Set<String> keep = new HashSet<>();
    for (var e : o.tagOverrides().entrySet()) {
      var op = e.getValue().operation();
      if (op == Telemetry.MetricsOverrides.TagOverride.Operation.REMOVE) {
        remove.add(e.getKey());
      } else {
        keep.add(e.getKey());
        warnings.add(
            field + ".tagOverrides." + e.getKey() + ": UPSERT needs a CEL value, not applied yet");
      }
    }
    for (Side s : sidesOf(match == null ? null : match.mode(), client, server)) {
      s.apply(name, o.disabled(), remove, keep);
    }
  }

  private static List<AccessLogSink> legacy(MeshConfig mesh) {
    String file = mesh.accessLogFile();
    if (file == null || file.isEmpty()) {
      return List.of();
    }
    boolean json = "JSON".equalsIgnoreCase(mesh.accessLogEncoding());
    String format = mesh.accessLogFormat() == null ? "" : mesh.accessLogFormat();
    if (json && !format.isBlank()) {
      return List.of(new AccessLogSink(file, true, "", jsonLabels(format)));
    }
    return List.of(new AccessLogSink(file, json, json ? "" : format, Map.of()));
  }

  /** MeshConfig's JSON accessLogFormat: an object of keys to format strings. */
  private static Map<String, String> jsonLabels(String format) {
    try {
      var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(format);
      Map<String, String> out = new LinkedHashMap<>();
      node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
      return out;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return Map.of(); // istiod falls back to its default JSON format too
    }
  }

  /** One side's metric overrides, by stats metric name ({@code ""}: all). */
  private static final class Side {
    final Map<String, Boolean> drop = new LinkedHashMap<>();
    final Map<String, Set<String>> remove = new LinkedHashMap<>();

    void apply(String name, @Nullable Boolean disabled, Set<String> rm, Set<String> keep) {
      if (disabled != null) {
        drop.put(name, disabled);
      }
      Set<String> set = remove.computeIfAbsent(name, n -> new HashSet<>());
      set.addAll(rm);
      set.removeAll(keep);
    }

    StatsOverrides overrides() {
      Map<String, StatsOverrides.Metric> out = new LinkedHashMap<>();
      Set<String> names = new HashSet<>(drop.keySet());
      names.addAll(remove.keySet());
      for (String n : names) {
        boolean d = drop.getOrDefault(n, false);
        Set<String> r = remove.getOrDefault(n, Set.of());
        if (d || !r.isEmpty()) {
          out.put(n, new StatsOverrides.Metric(d, r));
        }
      }
      return new StatsOverrides(false, out);
    }
  }

  /** One side's access logging as the levels left it. */
  private static final class Logs {
    boolean configured;
    boolean disabled;
    @Nullable List<String> providers;
    String filter = "";

    /** {@code sinks} with this side's CEL filter (Envoy's access-log filter), if any. */
    List<AccessLogSink> filtered(List<AccessLogSink> sinks) {
      if (filter.isEmpty()) {
        return sinks;
      }
      return sinks.stream()
          .map(s -> new AccessLogSink(s.path(), s.json(), s.textFormat(), s.jsonLabels(), filter))
          .toList();
    }

    List<AccessLogSink> sinks(
        Map<String, ExtensionProvider> all,
        List<String> defaults,
        List<AccessLogSink> legacy,
        List<String> warnings) {
      if (disabled) {
        return List.of();
      }
      List<String> names = providers != null ? providers : defaults;
      if (!configured && names.isEmpty()) {
        return legacy;
      }
      if (configured && names.isEmpty()) {
        names = List.of("envoy"); // istiod: logging enabled with no provider means "envoy"
      }
      List<AccessLogSink> out = new ArrayList<>();
      for (String n : names) {
        ExtensionProvider p = all.get(n);
        if (p == null) {
          warnings.add(
              "access logging provider '" + n + "' is not in meshConfig.extensionProviders");
          continue;
        }
        var f = p.envoyFileAccessLog();
        if (f == null) {
          warnings.add(
              "access logging provider '" + n + "': only envoyFileAccessLog is supported yet");
          continue;
        }
        String path = f.path() == null || f.path().isEmpty() ? "/dev/stdout" : f.path();
        var lf = f.logFormat();
        if (lf != null && !lf.labels().isEmpty()) {
          Map<String, String> labels = new LinkedHashMap<>();
          lf.labels().forEach((k, v) -> labels.put(k, String.valueOf(v)));
          out.add(new AccessLogSink(path, true, "", labels));
        } else {
          out.add(
              new AccessLogSink(
                  path, false, lf == null || lf.text() == null ? "" : lf.text(), Map.of()));
        }
      }
      return out;
    }
  }
}
