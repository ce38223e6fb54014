package dev.bowline.api.validation;

import dev.bowline.api.model.ProxyConfig;
import dev.bowline.api.model.Telemetry;
import dev.bowline.api.model.WasmPlugin;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Telemetry, WasmPlugin and ProxyConfig. */
final class ExtensionRules {
  private ExtensionRules() {}

  private static final Set<String> IMAGE_TYPES = Set.of("default", "debug", "distroless");

  static void checkProxyConfig(Report r, ProxyConfig pc) {
    SecurityRules.selector(r, "spec.selector", pc.selector());
    Checks.nonNegative(r, "spec.concurrency", pc.concurrency());
    image(r, "spec.image", pc.image());
    pc.environmentVariables()
        .keySet()
        .forEach(
            k -> {
              if (k.isEmpty() || !k.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                r.error(
                    "spec.environmentVariables." + k,
                    "\"" + k + "\" is not a valid environment variable name");
              }
            });
  }

  /** A proxy image ({@code ProxyConfig.image}, MeshConfig {@code defaultConfig.image}). */
  static void image(Report r, String at, ProxyConfig.@Nullable ProxyImage image) {
    if (image != null && image.imageType() != null && !IMAGE_TYPES.contains(image.imageType())) {
      r.error(
          at + ".imageType",
          "\"" + image.imageType() + "\" must be one of default, debug, distroless");
    }
  }

  private static void providers(Report r, String at, List<Telemetry.ProviderRef> providers) {
    for (int i = 0; i < providers.size(); i++) {
      Checks.nonEmpty(r, at + "[" + i + "].name", providers.get(i).name(), "provider name");
    }
  }

  static void checkTelemetry(Report r, Telemetry t) {
    SecurityRules.selector(r, "spec.selector", t.selector());
    SecurityRules.targets(r, t.selector(), t.targetRef(), t.targetRefs());
    for (int i = 0; i < t.tracing().size(); i++) {
      var tr = t.tracing().get(i);
      String at = "spec.tracing[" + i + "]";
      providers(r, at + ".providers", tr.providers());
      if (tr.providers().size() > 1) {
        r.error(at + ".providers", "only one tracing provider is supported");
      }
      Checks.percent(r, at + ".randomSamplingPercentage", tr.randomSamplingPercentage());
      tr.customTags()
          .forEach(
              (name, tag) -> {
                String tat = at + ".customTags." + name;
                if (tag.literal() == null && tag.environment() == null && tag.header() == null) {
                  r.error(tat, "custom tag needs one of literal, environment or header");
                }
                if (tag.environment() != null) {
                  Checks.nonEmpty(r, tat + ".environment.name", tag.environment().name(), "name");
                }
                if (tag.header() != null) {
                  Checks.nonEmpty(r, tat + ".header.name", tag.header().name(), "name");
                }
              });
    }
    for (int i = 0; i < t.metrics().size(); i++) {
      var m = t.metrics().get(i);
      String at = "spec.metrics[" + i + "]";
      providers(r, at + ".providers", m.providers());
      Checks.duration(r, at + ".reportingInterval", m.reportingInterval());
      for (int j = 0; j < m.overrides().size(); j++) {
        var o = m.overrides().get(j);
        String oat = at + ".overrides[" + j + "]";
        if (o.match() != null
            && o.match().customMetric() != null
            && o.match().customMetric().isEmpty()) {
          r.error(oat + ".match.customMetric", "custom metric name must not be empty");
        }
        o.tagOverrides()
            .forEach(
                (tag, op) -> {
                  String tat = oat + ".tagOverrides." + tag;
                  var operation =
                      op.operation() == null
                          ? Telemetry.MetricsOverrides.TagOverride.Operation.UPSERT
                          : op.operation();
                  if (operation == Telemetry.MetricsOverrides.TagOverride.Operation.UPSERT
                      && (op.value() == null || op.value().isEmpty())) {
                    r.error(tat + ".value", "value is required for operation UPSERT");
                  }
                  if (operation == Telemetry.MetricsOverrides.TagOverride.Operation.REMOVE
                      && op.value() != null) {
                    r.error(tat + ".value", "value is not allowed for operation REMOVE");
                  }
                });
      }
    }
    for (int i = 0; i < t.accessLogging().size(); i++) {
      var a = t.accessLogging().get(i);
      String at = "spec.accessLogging[" + i + "]";
      providers(r, at + ".providers", a.providers());
      if (a.filter() != null
          && (a.filter().expression() == null || a.filter().expression().isBlank())) {
        r.error(at + ".filter.expression", "filter expression must not be empty");
      }
    }
  }

  static void checkWasmPlugin(Report r, WasmPlugin w) {
    SecurityRules.selector(r, "spec.selector", w.selector());
    SecurityRules.targets(r, w.selector(), w.targetRef(), w.targetRefs());
    String url = w.url() == null ? "" : w.url();
    if (url.isEmpty()) {
      r.error("spec.url", "url is required");
    } else {
      int colon = url.indexOf("://");
      String scheme = colon < 0 ? "oci" : url.substring(0, colon);
      if (!Set.of("oci", "file", "http", "https").contains(scheme)) {
        r.error("spec.url", "unsupported scheme \"" + scheme + "\"; use oci, file, http or https");
      }
    }
    if (w.sha256() != null && !w.sha256().matches("[0-9a-f]{64}")) {
      r.error("spec.sha256", "must be 64 lower-case hex digits");
    }
    if (w.vmConfig() != null) {
      Set<String> names = new HashSet<>();
      for (int i = 0; i < w.vmConfig().env().size(); i++) {
        var e = w.vmConfig().env().get(i);
        String at = "spec.vmConfig.env[" + i + "]";
        if (e.name() == null || e.name().isEmpty()) {
          r.error(at + ".name", "name is required");
        } else if (!names.add(e.name())) {
          r.error(at + ".name", "duplicate environment variable \"" + e.name() + "\"");
        }
        if (e.valueFrom() == WasmPlugin.EnvVar.ValueSource.HOST && e.value() != null) {
          r.error(at + ".value", "value is not allowed when valueFrom is HOST");
        }
      }
    }
    for (int i = 0; i < w.match().size(); i++) {
      var m = w.match().get(i);
      for (int j = 0; j < m.ports().size(); j++) {
        Checks.port(r, "spec.match[" + i + "].ports[" + j + "].number", m.ports().get(j).number());
      }
    }
  }
}
