package dev.bowline.config.analysis;

import dev.bowline.api.Resource;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.Spec;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What analyzers see: the resources, indexed by kind, and the mesh config (for the root namespace
 * and the domain suffix).
 */
public final class AnalysisContext {
  private final List<Resource<?>> resources;
  private final MeshConfig mesh;
  private final LocalRegistry registry;

  /** A context of {@code resources} under {@code mesh}, with no services or workloads known. */
  public AnalysisContext(Collection<? extends Resource<?>> resources, MeshConfig mesh) {
    this(resources, mesh, LocalRegistry.empty());
  }

  /**
   * A context of {@code resources} under {@code mesh}, where {@code registry}'s services and
   * workloads exist.
   */
  public AnalysisContext(
      Collection<? extends Resource<?>> resources, MeshConfig mesh, LocalRegistry registry) {
    this.resources = List.copyOf(resources);
    this.mesh = mesh;
    this.registry = registry;
  }

  /** Services and workloads known besides the resources. */
  public LocalRegistry registry() {
    return registry;
  }

  /** Every resource. */
  public List<Resource<?>> resources() {
    return resources;
  }

  /** The resources of one kind. */
  public <S extends Spec> List<Resource<S>> of(Class<S> type) {
    return resources.stream().flatMap(r -> r.as(type).stream()).toList();
  }

  /** The mesh config. */
  public MeshConfig mesh() {
    return mesh;
  }

  /** The root namespace (mesh-wide policies live there). */
  public String rootNamespace() {
    return mesh.rootNamespace() == null ? "istio-system" : mesh.rootNamespace();
  }

  /**
   * {@code host} as a fully qualified name: short names are relative to {@code namespace}, as Istio
   * resolves them ({@code forecast} in {@code weather} is {@code
   * forecast.weather.svc.cluster.local}).
   */
  public String fqdn(String host, String namespace) {
    if (host.contains(".") || host.startsWith("*")) {
      return host;
    }
    return host + "." + namespace + ".svc." + domainSuffix();
  }

  /** The cluster's domain suffix. */
  public String domainSuffix() {
    return "cluster.local";
  }

  /** True when label selector {@code selector} matches {@code labels}. */
  public static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
  }
}
