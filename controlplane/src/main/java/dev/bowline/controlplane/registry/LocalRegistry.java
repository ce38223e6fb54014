package dev.bowline.controlplane.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The registry of local workloads: services and workloads declared through this API (by the local
 * runner, tests) or loaded from a YAML file ({@link RegistryFile}). Every change makes a new {@link
 * RegistrySnapshot} and tells the listeners what changed. Thread-safe; changes are serialized.
 */
public final class LocalRegistry implements ServiceRegistry {
  private static final System.Logger LOG = System.getLogger(LocalRegistry.class.getName());

  private final String domainSuffix;
  private final Map<String, LocalService> services = new LinkedHashMap<>();
  private final Map<String, Workload> workloads = new LinkedHashMap<>();
  private final List<Consumer<RegistryChange>> listeners = new CopyOnWriteArrayList<>();
  private volatile RegistrySnapshot snapshot;

  /** An empty registry for the DNS domain {@code domainSuffix} ({@code cluster.local}). */
  public LocalRegistry(String domainSuffix) {
    this.domainSuffix = Objects.requireNonNull(domainSuffix, "domainSuffix");
    this.snapshot = new RegistrySnapshot(0, domainSuffix, List.of(), List.of());
  }

  @Override
  public RegistrySnapshot snapshot() {
    return snapshot;
  }

  @Override
  public void addListener(Consumer<RegistryChange> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Adds or replaces a service (keyed by namespace and name). */
  public synchronized void putService(LocalService service) {
    services.put(key(service.namespace(), service.name()), service);
    rebuild();
  }

  /** Removes a service; no-op if absent. */
  public synchronized void removeService(String namespace, String name) {
    if (services.remove(key(namespace, name)) != null) {
      rebuild();
    }
  }

  /** Adds or replaces a workload (keyed by namespace and name). */
  public synchronized void putWorkload(Workload workload) {
    workloads.put(key(workload.namespace(), workload.name()), workload);
    rebuild();
  }

  /** Removes a workload; no-op if absent. */
  public synchronized void removeWorkload(String namespace, String name) {
    if (workloads.remove(key(namespace, name)) != null) {
      rebuild();
    }
  }

  /** Replaces the whole contents at once (one change event), as when the file is reloaded. */
  public synchronized void replaceAll(RegistryFile.Contents contents) {
    services.clear();
    workloads.clear();
    for (LocalService s : contents.services()) {
      services.put(key(s.namespace(), s.name()), s);
    }
    for (Workload w : contents.workloads()) {
      workloads.put(key(w.namespace(), w.name()), w);
    }
    rebuild();
  }

  private static String key(String namespace, String name) {
    return namespace + "/" + name;
  }

  private void rebuild() {
    List<Service> svc = new ArrayList<>();
    List<Endpoint> eps = new ArrayList<>();
    // Workloads by "namespace/key=value" of each label: a selector then only looks at the
    // workloads carrying its rarest label, not at every workload (1,000 services x 10,000
    // workloads would otherwise be 10 million checks per change).
    Map<String, List<Workload>> byLabel = new java.util.HashMap<>();
    for (Workload w : workloads.values()) {
      for (Map.Entry<String, String> l : w.labels().entrySet()) {
        byLabel
            .computeIfAbsent(
                w.namespace() + "/" + l.getKey() + "=" + l.getValue(), k -> new ArrayList<>())
            .add(w);
      }
    }
    for (LocalService ls : services.values()) {
      String host = Hostnames.fqdn(ls.name(), ls.namespace(), domainSuffix);
      Map<String, String> selector =
          ls.selector().isEmpty() ? Map.of("app", ls.name()) : ls.selector();
      svc.add(
          new Service(host, ls.namespace(), ls.name(), ls.ports(), ls.labels())
              .withSelector(selector));
      List<Workload> candidates = null;
      for (Map.Entry<String, String> l : selector.entrySet()) {
        List<Workload> c =
            byLabel.getOrDefault(ls.namespace() + "/" + l.getKey() + "=" + l.getValue(), List.of());
        if (candidates == null || c.size() < candidates.size()) {
          candidates = c;
        }
      }
      for (Workload w : candidates == null ? List.<Workload>of() : candidates) {
        if (!w.labels().entrySet().containsAll(selector.entrySet())) {
          continue;
        }
        for (ServicePort p : ls.ports()) {
          int target = w.ports().getOrDefault(p.name(), p.targetPort());
          eps.add(
              new Endpoint(
                  host,
                  p.port(),
                  w.address(),
                  target,
                  w.labels(),
                  w.serviceAccount(),
                  w.namespace(),
                  w.name(),
                  w.locality(),
                  w.network(),
                  w.health()));
        }
      }
    }
    RegistrySnapshot before = snapshot;
    RegistrySnapshot after = new RegistrySnapshot(before.version() + 1, domainSuffix, svc, eps);
    RegistryChange change = after.diff(before);
    if (change.isEmpty()) {
      return; // nothing a proxy could see changed (a reload of the same file): keep the version
    }
    snapshot = after;
    LOG.log(
        System.Logger.Level.DEBUG,
        () ->
            "event=registry_change version="
                + after.version()
                + " services_changed="
                + change.servicesChanged()
                + " endpoint_hosts="
                + change.endpointHosts());
    for (Consumer<RegistryChange> l : listeners) {
      l.accept(change);
    }
  }
}
