package dev.bowline.controlplane.registry;

import dev.bowline.api.Resource;
import dev.bowline.api.model.Port;
import dev.bowline.api.model.ServiceEntry;
import dev.bowline.api.model.WorkloadEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The services and endpoints Istio config declares, as istiod's ServiceEntry registry converts
 * them: one {@link Service} per ServiceEntry host (its ports, resolution, location, addresses,
 * exportTo), endpoints from the entry's inline {@code endpoints} or, with a {@code
 * workloadSelector}, from the WorkloadEntries of its namespace carrying those labels; and the
 * WorkloadEntries that other registries' services select (a Kubernetes or local Service selects
 * WorkloadEntries of its namespace as it selects pods).
 *
 * <p>Istio's rules: an endpoint's port is the WorkloadEntry's port of the service port's
 * <em>name</em>, else the port's {@code targetPort}, else its number; its labels are the entry's
 * plus {@code security.istio.io/tlsMode} (the entry's label, else {@code istio} when it names a
 * service account, else {@code disabled}; always {@code disabled} for MESH_EXTERNAL services);
 * locality, network, weight and service account come from the entry. A DNS service without
 * endpoints resolves its own host. A pure function: {@link #build} keeps no state.
 */
public final class ServiceEntryRegistry {
  private ServiceEntryRegistry() {}

  /**
   * What the config declares.
   *
   * @param services one per ServiceEntry host, first by (namespace, name) for a repeated host
   * @param endpoints their endpoints, and those of {@code selecting} services from WorkloadEntries
   * @param warnings what was skipped and why, naming the resource and field
   */
  public record Result(List<Service> services, List<Endpoint> endpoints, List<String> warnings) {
    public Result {
      services = List.copyOf(services);
      endpoints = List.copyOf(endpoints);
      warnings = List.copyOf(warnings);
    }
  }

  /**
   * Converts {@code serviceEntries} and {@code workloadEntries} (config and auto-registered ones).
   *
   * @param selecting services of other registries with a selector: they get the WorkloadEntries of
   *     their namespace that match it as endpoints
   * @param taken hostnames other registries already have (those win, as Kubernetes services win
   *     over ServiceEntries in istiod)
   */
  public static Result build(
      List<Resource<ServiceEntry>> serviceEntries,
      List<Resource<WorkloadEntry>> workloadEntries,
      Collection<Service> selecting,
      java.util.Set<String> taken) {
    List<Service> services = new ArrayList<>();
    List<Endpoint> endpoints = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Map<String, String> owner = new HashMap<>();
    Map<String, List<Resource<WorkloadEntry>>> entriesByNamespace = new HashMap<>();
    for (Resource<WorkloadEntry> we : workloadEntries) {
      entriesByNamespace.computeIfAbsent(we.namespace(), n -> new ArrayList<>()).add(we);
    }
    for (Resource<ServiceEntry> se : serviceEntries) {
      String origin = "ServiceEntry " + se.namespace() + "/" + se.name();
      ServiceEntry spec = se.spec();
      List<ServicePort> ports = ports(spec, origin, warnings);
      if (ports.isEmpty()) {
        warnings.add(origin + ": spec.ports: no usable port; the entry is ignored");
        continue;
      }
      Resolution resolution = resolution(spec);
      boolean external = spec.location() == ServiceEntry.Location.MESH_EXTERNAL;
      Map<String, String> selector =
          spec.workloadSelector() == null ? Map.of() : spec.workloadSelector().labels();
      for (int h = 0; h < spec.hosts().size(); h++) {
        String host = spec.hosts().get(h);
        if (taken.contains(host)) {
          warnings.add(
              origin
                  + ": spec.hosts["
                  + h
                  + "]: "
                  + host
                  + " is already a registry service, which wins");
          continue;
        }
        String first = owner.putIfAbsent(host, origin);
        if (first != null) {
          warnings.add(
              origin + ": spec.hosts[" + h + "]: " + host + " is already declared by " + first);
          continue;
        }
        Service service =
            new Service(
                host,
                se.namespace(),
                host,
                ports,
                se.labels(),
                resolution,
                external,
                spec.addresses(),
                spec.exportTo(),
                selector,
                origin);
        services.add(service);
        int before = endpoints.size();
        if (!selector.isEmpty()) {
          for (Resource<WorkloadEntry> we :
              entriesByNamespace.getOrDefault(se.namespace(), List.of())) {
            if (we.spec().labels().entrySet().containsAll(selector.entrySet())) {
              addEndpoints(
                  endpoints,
                  warnings,
                  service,
                  we.spec(),
                  we.namespace(),
                  we.name(),
                  "WorkloadEntry " + we.namespace() + "/" + we.name());
            }
          }
        } else {
          for (int i = 0; i < spec.endpoints().size(); i++) {
            addEndpoints(
                endpoints,
                warnings,
                service,
                spec.endpoints().get(i),
                se.namespace(),
                se.name(),
                origin + ": spec.endpoints[" + i + "]");
          }
        }
        if (endpoints.size() == before && resolution == Resolution.DNS
            || endpoints.size() == before && resolution == Resolution.DNS_ROUND_ROBIN) {
          // istiod: a DNS entry without endpoints resolves its own host.
          if (!host.startsWith("*")) {
            for (ServicePort p : ports) {
              endpoints.add(
                  endpoint(
                      service,
                      p,
                      host,
                      p.targetPort(),
                      Map.of(),
                      se.namespace(),
                      se.name(),
                      "default",
                      Locality.NONE,
                      "",
                      1));
            }
          }
        }
      }
    }
    for (Service s : selecting) {
      if (s.selector().isEmpty()) {
        continue;
      }
      for (Resource<WorkloadEntry> we : entriesByNamespace.getOrDefault(s.namespace(), List.of())) {
        if (we.spec().labels().entrySet().containsAll(s.selector().entrySet())) {
          addEndpoints(
              endpoints,
              warnings,
              s,
              we.spec(),
              we.namespace(),
              we.name(),
              "WorkloadEntry " + we.namespace() + "/" + we.name());
        }
      }
    }
    return new Result(services, endpoints, warnings);
  }

  private static Resolution resolution(ServiceEntry spec) {
    if (spec.resolution() == null) {
      return Resolution.NONE; // Istio's default
    }
    return switch (spec.resolution()) {
      case NONE -> Resolution.NONE;
      case STATIC -> Resolution.STATIC;
      case DNS, DYNAMIC_DNS -> Resolution.DNS;
      case DNS_ROUND_ROBIN -> Resolution.DNS_ROUND_ROBIN;
    };
  }

  private static List<ServicePort> ports(ServiceEntry spec, String origin, List<String> warnings) {
    Map<Integer, ServicePort> out = new LinkedHashMap<>();
    for (int i = 0; i < spec.ports().size(); i++) {
      Port p = spec.ports().get(i);
      if (p.number() == null || p.number() < 1 || p.number() > 65535) {
        warnings.add(origin + ": spec.ports[" + i + "].number: missing or out of range");
        continue;
      }
      String name = p.name() == null ? "" : p.name();
      Protocol protocol =
          p.protocol() != null ? Protocol.parse(p.protocol()) : Protocol.fromPortName(name);
      int target = p.targetPort() == null || p.targetPort() == 0 ? p.number() : p.targetPort();
      if (out.putIfAbsent(p.number(), new ServicePort(name, p.number(), protocol, target))
          != null) {
        warnings.add(origin + ": spec.ports[" + i + "].number: " + p.number() + " is repeated");
      }
    }
    return List.copyOf(out.values());
  }

  private static void addEndpoints(
      List<Endpoint> out,
      List<String> warnings,
      Service service,
      WorkloadEntry we,
      String namespace,
      String workloadName,
      String where) {
    String address = we.address();
    if (address == null || address.isEmpty()) {
      warnings.add(where + ": address: missing; the endpoint is skipped");
      return;
    }
    if (address.startsWith("unix://")) {
      warnings.add(where + ": address: unix domain sockets are not supported; skipped");
      return;
    }
    if (service.resolution() == Resolution.STATIC && !Workload.isIpLiteral(address)) {
      warnings.add(
          where
              + ": address: '"
              + address
              + "' is not an IP address, which resolution STATIC needs; skipped");
      return;
    }
    Locality locality = Locality.NONE;
    if (we.locality() != null && !we.locality().isEmpty()) {
      try {
        locality = Locality.parse(we.locality());
      } catch (IllegalArgumentException e) {
        warnings.add(where + ": locality: " + e.getMessage());
      }
    }
    Map<String, String> labels = new HashMap<>(we.labels());
    String tlsMode = labels.get(Endpoint.TLS_MODE_LABEL);
    // istiod (getTLSModeFromWorkloadEntry): the label if set, else istio when the entry names a
    // service account, else disabled; mesh-external services never get auto mTLS.
    boolean hasAccount = we.serviceAccount() != null && !we.serviceAccount().isEmpty();
    labels.put(
        Endpoint.TLS_MODE_LABEL,
        service.meshExternal()
            ? "disabled"
            : tlsMode != null ? tlsMode : hasAccount ? "istio" : "disabled");
    int weight = we.weight() == null || we.weight() < 1 ? 1 : we.weight();
    String sa =
        we.serviceAccount() == null || we.serviceAccount().isEmpty()
            ? "default"
            : we.serviceAccount();
    for (ServicePort p : service.ports()) {
      Integer named = we.ports().get(p.name());
      int port = named != null && named > 0 ? named : p.targetPort();
      out.add(
          endpoint(
              service,
              p,
              address,
              port,
              labels,
              namespace,
              workloadName,
              sa,
              locality,
              we.network() == null ? "" : we.network(),
              weight));
    }
  }

  private static Endpoint endpoint(
      Service service,
      ServicePort p,
      String address,
      int port,
      Map<String, String> labels,
      String namespace,
      String workloadName,
      String serviceAccount,
      Locality locality,
      String network,
      int weight) {
    return new Endpoint(
        service.hostname(),
        p.port(),
        address,
        port,
        labels,
        serviceAccount,
        namespace,
        workloadName,
        locality,
        network,
        HealthStatus.HEALTHY,
        weight);
  }
}
