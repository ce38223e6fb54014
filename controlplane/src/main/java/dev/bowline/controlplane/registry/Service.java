package dev.bowline.controlplane.registry;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A service in the mesh model, whatever registry it came from.
 *
 * @param hostname its fully qualified Istio hostname ({@code forecast.weather.svc.cluster.local})
 * @param namespace the namespace it belongs to
 * @param name its short name
 * @param ports its ports, in declaration order
 * @param labels its labels
 * @param resolution how proxies find its endpoints
 * @param meshExternal whether it is outside the mesh (ServiceEntry {@code MESH_EXTERNAL}: no mTLS)
 * @param addresses its virtual IPs or CIDRs (ServiceEntry {@code addresses}); empty if none
 * @param exportTo the namespaces that may see it: empty or {@code *} for all, {@code .} for its
 *     own, {@code ~} for none (Istio's {@code exportTo})
 * @param selector the labels of the workloads that back it (a Kubernetes Service's selector, a
 *     ServiceEntry's {@code workloadSelector}); empty if it selects none
 * @param origin where it was declared ({@code local}, {@code ServiceEntry ns/name}), for messages
 */
public record Service(
    String hostname,
    String namespace,
    String name,
    List<ServicePort> ports,
    Map<String, String> labels,
    Resolution resolution,
    boolean meshExternal,
    List<String> addresses,
    List<String> exportTo,
    Map<String, String> selector,
    String origin) {
  public Service {
    Objects.requireNonNull(hostname, "hostname");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    ports = List.copyOf(ports);
    labels = Map.copyOf(labels);
    Objects.requireNonNull(resolution, "resolution");
    addresses = List.copyOf(addresses);
    exportTo = List.copyOf(exportTo);
    selector = Map.copyOf(selector);
    Objects.requireNonNull(origin, "origin");
  }

  /** A mesh-internal service with registry (EDS) endpoints, visible everywhere. */
  public Service(
      String hostname,
      String namespace,
      String name,
      List<ServicePort> ports,
      Map<String, String> labels) {
    this(
        hostname,
        namespace,
        name,
        ports,
        labels,
        Resolution.STATIC,
        false,
        List.of(),
        List.of(),
        Map.of(),
        "local");
  }

  /** This service with the selector {@code selector}. */
  public Service withSelector(Map<String, String> selector) {
    return new Service(
        hostname,
        namespace,
        name,
        ports,
        labels,
        resolution,
        meshExternal,
        addresses,
        exportTo,
        selector,
        origin);
  }

  /**
   * Whether a proxy in {@code namespace} may see it (Istio's {@code exportTo}: empty or {@code *}
   * everyone, {@code .} its own namespace, {@code ~} nobody, else the namespaces named).
   */
  public boolean isExportedTo(String viewerNamespace) {
    if (exportTo.isEmpty()) {
      return true;
    }
    for (String e : exportTo) {
      if (e.equals("*")
          || e.equals(viewerNamespace)
          || (e.equals(".") && namespace.equals(viewerNamespace))) {
        return true;
      }
    }
    return false;
  }

  /** Whether its endpoints are served over EDS (the registry knows them). */
  public boolean usesEds() {
    return resolution == Resolution.STATIC;
  }

  /** The port numbered {@code number}, if the service has it. */
  public Optional<ServicePort> port(int number) {
    for (ServicePort p : ports) {
      if (p.port() == number) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
