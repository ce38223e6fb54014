package dev.bowline.cli.mesh;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Tracing for a local mesh with sidecars, the Istio way: the control plane's own OTLP receiver is
 * the collector, registered as the service {@code otel-collector.istio-system} (gRPC port 4317, one
 * endpoint: the control plane's address), and a generated {@code mesh.yaml} names it as the {@code
 * opentelemetry} extension provider and the default tracing provider, sampling 100% (Istio's demo
 * profile value, so every page load of the demo is a trace). A {@code mesh.yaml} in a user's config
 * directory is applied over this one, field by field (decision 0033).
 */
final class MeshTracing {
  static final String NAMESPACE = "istio-system";
  static final String NAME = "otel-collector";
  static final int PORT = 4317;
  static final double SAMPLING = 100.0;

  private MeshTracing() {}

  /** The directory of the generated mesh config, passed to the control plane first. */
  static java.nio.file.Path dir(java.nio.file.Path runDir) {
    return runDir.resolve("mesh-config");
  }

  /** The generated {@code mesh.yaml}. */
  static String meshYaml() {
    return """
        # Written by bowline up: traces go to the control plane's OTLP receiver (decision 0019).
        enableTracing: true
        defaultConfig:
          tracing:
            sampling: %s
        defaultProviders:
          tracing: [otel]
        extensionProviders:
        - name: otel
          opentelemetry:
            service: %s.%s.svc.cluster.local
            port: %d
        """
        .formatted(SAMPLING, NAME, NAMESPACE, PORT);
  }

  /** The collector's registry service. */
  static Map<String, Object> service() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("namespace", NAMESPACE);
    s.put("name", NAME);
    s.put("ports", List.of(Map.of("name", "grpc-otlp", "port", PORT)));
    s.put("selector", Map.of("app", NAME));
    return s;
  }

  /** The collector's one endpoint: the control plane at {@code address} (no sidecar). */
  static Map<String, Object> workload(String address) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("namespace", NAMESPACE);
    e.put("name", NAME + "-0");
    e.put("labels", new TreeMap<>(Map.of("app", NAME)));
    e.put("address", address);
    return e;
  }
}
