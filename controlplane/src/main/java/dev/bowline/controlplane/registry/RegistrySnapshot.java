package dev.bowline.controlplane.registry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * An immutable view of every service and endpoint at one moment, indexed the way generators need:
 * services by hostname, endpoints by (hostname, port), endpoints by workload address.
 */
public final class RegistrySnapshot {
  /** The registry with nothing in it. */
  public static final RegistrySnapshot EMPTY =
      new RegistrySnapshot(0, "cluster.local", List.of(), List.of());

  private final long version;
  private final String domainSuffix;
  private final Map<String, Service> services;
  private final Map<String, Map<Integer, List<Endpoint>>> endpoints;
  private final Map<String, List<Endpoint>> byAddress;

  /**
   * Builds a snapshot.
   *
   * @param version increases with every change of the registry
   * @param domainSuffix the cluster's DNS domain, {@code cluster.local} by default
   * @param services every service
   * @param endpoints every endpoint; each must name one of {@code services} and one of its ports
   */
  public RegistrySnapshot(
      long version,
      String domainSuffix,
      Collection<Service> services,
      Collection<Endpoint> endpoints) {
    this.version = version;
    this.domainSuffix = Objects.requireNonNull(domainSuffix, "domainSuffix");
    TreeMap<String, Service> s = new TreeMap<>();
    for (Service service : services) {
      if (s.put(service.hostname(), service) != null) {
        throw new IllegalArgumentException("service " + service.hostname() + " is declared twice");
      }
    }
    TreeMap<String, Map<Integer, List<Endpoint>>> e = new TreeMap<>();
    TreeMap<String, List<Endpoint>> a = new TreeMap<>();
    for (Endpoint ep : endpoints) {
      Service service = s.get(ep.hostname());
      if (service == null || service.port(ep.servicePort()).isEmpty()) {
        throw new IllegalArgumentException(
            "endpoint "
                + ep.address()
                + ":"
                + ep.port()
                + " names unknown service port "
                + ep.hostname()
                + ":"
                + ep.servicePort());
      }
      e.computeIfAbsent(ep.hostname(), h -> new TreeMap<>())
          .computeIfAbsent(ep.servicePort(), p -> new ArrayList<>())
          .add(ep);
      a.computeIfAbsent(ep.address(), x -> new ArrayList<>()).add(ep);
    }
    e.replaceAll(
        (h, byPort) -> {
          byPort.replaceAll((p, list) -> List.copyOf(list));
          return Map.copyOf(byPort);
        });
    a.replaceAll((x, list) -> List.copyOf(list));
    this.services = java.util.Collections.unmodifiableMap(s);
    this.endpoints = java.util.Collections.unmodifiableMap(e);
    this.byAddress = java.util.Collections.unmodifiableMap(a);
  }

  /** Increases with every change. */
  public long version() {
    return version;
  }

  /** The cluster's DNS domain ({@code cluster.local}). */
  public String domainSuffix() {
    return domainSuffix;
  }

  /** Every service, sorted by hostname. */
  public Collection<Service> services() {
    return services.values();
  }

  /** The service with this fully qualified hostname. */
  public Optional<Service> service(String hostname) {
    return Optional.ofNullable(services.get(hostname));
  }

  /**
   * The service a client in {@code namespace} means by {@code name} (short, partly or fully
   * qualified), as in {@link Hostnames#resolve}.
   */
  public Optional<Service> resolve(String name, String namespace) {
    return service(Hostnames.resolve(name, namespace, domainSuffix));
  }

  /** The endpoints of one service port, in a stable order; empty if there are none. */
  public List<Endpoint> endpoints(String hostname, int port) {
    Map<Integer, List<Endpoint>> byPort = endpoints.get(hostname);
    if (byPort == null) {
      return List.of();
    }
    return byPort.getOrDefault(port, List.of());
  }

  /** The service instances of the workload at {@code address} (a proxy's own endpoints). */
  public List<Endpoint> instancesAt(String address) {
    return byAddress.getOrDefault(address, List.of());
  }

  /**
   * What changed from {@code before} to this snapshot: whether the set of services or their ports
   * changed (a full push), and which hostnames' endpoints changed (an EDS push).
   */
  public RegistryChange diff(RegistrySnapshot before) {
    boolean servicesChanged = !services.equals(before.services);
    Set<String> hosts = new HashSet<>(endpoints.keySet());
    hosts.addAll(before.endpoints.keySet());
    Set<String> changed = new HashSet<>();
    for (String h : hosts) {
      if (!Objects.equals(endpoints.get(h), before.endpoints.get(h))) {
        changed.add(h);
      }
    }
    return new RegistryChange(this, servicesChanged, changed);
  }
}
