package dev.bowline.controlplane.dashboard;

import java.util.Map;
import java.util.Objects;

/**
 * A node of the graph: a versioned app in a namespace, named as Istio's canonical service and
 * revision ({@code service.istio.io/canonical-name}, else {@code app.kubernetes.io/name}, else
 * {@code app}, else the workload name; revision likewise from {@code version}, else {@code
 * latest}). That is what metrics carry ({@code *_canonical_service}, {@code *_canonical_revision})
 * and what the registry's and proxies' labels give, so the three join without workload names
 * (registry instances are pods, {@code frontend-v1-0}; metrics name the workload, {@code
 * frontend-v1}). {@link #UNKNOWN} stands for callers outside the mesh.
 */
record NodeRef(String namespace, String app, String version) implements Comparable<NodeRef> {
  static final NodeRef UNKNOWN = new NodeRef("", "unknown", "");
  static final String LATEST = "latest";

  NodeRef {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(app, "app");
    Objects.requireNonNull(version, "version");
  }

  /** From metric label values; an unknown workload or app is {@link #UNKNOWN}. */
  static NodeRef of(String namespace, String workload, String app, String version) {
    if (workload.equals("unknown") || app.isEmpty() || app.equals("unknown")) {
      return UNKNOWN;
    }
    return new NodeRef(
        namespace, app, version.isEmpty() || version.equals("unknown") ? LATEST : version);
  }

  /** From a workload's labels, with Istio's canonical-service fallbacks. */
  static NodeRef ofLabels(String namespace, String workload, Map<String, String> labels) {
    String app =
        first(
            labels.get("service.istio.io/canonical-name"),
            labels.get("app.kubernetes.io/name"),
            labels.get("app"),
            workload);
    String version =
        first(
            labels.get("service.istio.io/canonical-revision"),
            labels.get("app.kubernetes.io/version"),
            labels.get("version"),
            LATEST);
    return new NodeRef(namespace, app, version);
  }

  /** {@code namespace/app/version}, or {@code unknown}. */
  String id() {
    return this.equals(UNKNOWN) ? "unknown" : namespace + "/" + app + "/" + version;
  }

  @Override
  public int compareTo(NodeRef o) {
    return id().compareTo(o.id());
  }

  private static String first(@org.jspecify.annotations.Nullable String... values) {
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return "";
  }
}
