package dev.bowline.controlplane.registry;

import dev.bowline.api.Resource;
import dev.bowline.api.model.ServiceEntry;
import dev.bowline.api.model.WorkloadEntry;
import dev.bowline.api.model.WorkloadGroup;
import dev.bowline.config.ConfigSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The one registry the control plane serves from: another registry's services and endpoints (the
 * local registry, later Kubernetes) merged with what Istio config declares (ServiceEntry,
 * WorkloadEntry, and WorkloadEntries auto-registered from a WorkloadGroup's template while their
 * proxy is connected), converted by {@link ServiceEntryRegistry}. A hostname the other registry has
 * wins over a ServiceEntry's, as Kubernetes services do in istiod. Thread-safe; every change of
 * either side makes a new snapshot and tells the listeners what changed.
 */
public final class MeshRegistry implements ServiceRegistry {
  private static final System.Logger LOG = System.getLogger(MeshRegistry.class.getName());

  /** A proxy that asked to be registered from a WorkloadGroup (metadata AUTO_REGISTER_GROUP). */
  private record AutoRegistration(
      String namespace, String group, String address, Map<String, String> labels) {}

  /**
   * The last health reported for each auto-registered entry ({@code namespace/name}; istiod's
   * WorkloadEntry {@code Healthy} condition): the probe's failure message, or absent while healthy
   * or never reported. By entry, not by stream, so that a proxy that reconnects within the grace
   * period (two registrations of one entry for a while) is judged by its latest report.
   */
  private final Map<String, String> unhealthy = new HashMap<>();

  private final ServiceRegistry base;
  private final List<Consumer<RegistryChange>> listeners = new CopyOnWriteArrayList<>();
  private final Map<String, AutoRegistration> autoRegistered = new LinkedHashMap<>();
  private List<Resource<ServiceEntry>> serviceEntries = List.of();
  private List<Resource<WorkloadEntry>> workloadEntries = List.of();
  private List<Resource<WorkloadGroup>> workloadGroups = List.of();
  private long version;
  private volatile RegistrySnapshot snapshot;
  private volatile List<String> warnings = List.of();

  /** A registry serving {@code base} until config arrives. */
  public MeshRegistry(ServiceRegistry base) {
    this.base = Objects.requireNonNull(base, "base");
    this.snapshot = base.snapshot();
    this.version = snapshot.version();
    rebuild();
    base.addListener(c -> rebuild());
  }

  @Override
  public RegistrySnapshot snapshot() {
    return snapshot;
  }

  @Override
  public void addListener(Consumer<RegistryChange> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** What the last conversion skipped, naming resource and field. */
  public List<String> warnings() {
    return warnings;
  }

  /** Takes ServiceEntries, WorkloadEntries and WorkloadGroups from {@code config}. */
  public synchronized void updateConfig(ConfigSnapshot config) {
    serviceEntries = config.list(ServiceEntry.class);
    workloadEntries = config.list(WorkloadEntry.class);
    workloadGroups = config.list(WorkloadGroup.class);
    rebuild();
  }

  /**
   * Registers the workload of a connected proxy from the WorkloadGroup {@code group} of {@code
   * namespace}, as istiod's auto-registration: a WorkloadEntry {@code <group>-<address>} made of
   * the group's template with the proxy's address, and the proxy's labels over the template's. Kept
   * while the group exists, until {@link #unregister}.
   *
   * @param key identifies the registration (the connection)
   */
  public synchronized void autoRegister(
      String key, String namespace, String group, String address, Map<String, String> labels) {
    autoRegistered.put(key, new AutoRegistration(namespace, group, address, Map.copyOf(labels)));
    rebuild();
  }

  /** Removes the registration {@code key}; no-op if absent. */
  public synchronized void unregister(String key) {
    AutoRegistration gone = autoRegistered.remove(key);
    if (gone != null) {
      String entry = entryKey(gone);
      if (autoRegistered.values().stream().noneMatch(a -> entryKey(a).equals(entry))) {
        unhealthy.remove(entry);
      }
      rebuild();
    }
  }

  /**
   * The health the agent of registration {@code key} reported: {@code why} its probe failed, null
   * when healthy. The endpoints of an unhealthy auto-registered WorkloadEntry stay in the registry
   * marked {@link HealthStatus#UNHEALTHY} (Envoy and gRPC then send them nothing) until a healthy
   * report. A report on a stream that registered nothing is ignored, as istiod does.
   */
  public synchronized void setHealth(String key, @Nullable String why) {
    AutoRegistration a = autoRegistered.get(key);
    if (a == null) {
      return;
    }
    String before = why == null ? unhealthy.remove(entryKey(a)) : unhealthy.put(entryKey(a), why);
    if (!Objects.equals(before, why)) {
      LOG.log(
          System.Logger.Level.INFO,
          "event=workload_health entry={0}/{1} healthy={2}{3}",
          a.namespace(),
          entryName(a),
          why == null,
          why == null ? "" : " reason=\"" + why + "\"");
      rebuild();
    }
  }

  private static String entryKey(AutoRegistration a) {
    return a.namespace() + "/" + entryName(a);
  }

  /** The name of the WorkloadEntry registered for {@code a}: {@code <group>-<address>}. */
  private static String entryName(AutoRegistration a) {
    return a.group() + "-" + a.address().replace(':', '-');
  }

  private synchronized void rebuild() {
    RegistrySnapshot local = base.snapshot();
    List<String> warn = new ArrayList<>();
    List<Resource<WorkloadEntry>> entries = new ArrayList<>(workloadEntries);
    Set<String> names = new HashSet<>();
    workloadEntries.forEach(w -> names.add(w.namespace() + "/" + w.name()));
    for (AutoRegistration a : autoRegistered.values()) {
      Resource<WorkloadEntry> e = fromGroup(a, warn);
      if (e != null && names.add(e.namespace() + "/" + e.name())) {
        entries.add(e);
      }
    }
    Set<String> taken = new HashSet<>();
    local.services().forEach(s -> taken.add(s.hostname()));
    ServiceEntryRegistry.Result converted =
        ServiceEntryRegistry.build(serviceEntries, entries, local.services(), taken);
    warn.addAll(converted.warnings());
    List<Service> services = new ArrayList<>(local.services());
    services.addAll(converted.services());
    List<Endpoint> endpoints = new ArrayList<>();
    for (Service s : local.services()) {
      for (ServicePort p : s.ports()) {
        endpoints.addAll(local.endpoints(s.hostname(), p.port()));
      }
    }
    for (Endpoint e : converted.endpoints()) {
      boolean ill =
          !unhealthy.isEmpty() && unhealthy.containsKey(e.namespace() + "/" + e.workloadName());
      endpoints.add(ill ? e.withHealth(HealthStatus.UNHEALTHY) : e);
    }
    RegistrySnapshot before = snapshot;
    RegistrySnapshot after =
        new RegistrySnapshot(version + 1, local.domainSuffix(), services, endpoints);
    if (!warn.equals(warnings)) {
      warn.forEach(w -> LOG.log(System.Logger.Level.WARNING, "event=registry_warning " + w));
    }
    warnings = List.copyOf(warn);
    RegistryChange change = after.diff(before);
    if (change.isEmpty()) {
      return;
    }
    version++;
    snapshot = after;
    for (Consumer<RegistryChange> l : listeners) {
      l.accept(change);
    }
  }

  private @Nullable Resource<WorkloadEntry> fromGroup(AutoRegistration a, List<String> warn) {
    for (Resource<WorkloadGroup> g : workloadGroups) {
      if (!g.namespace().equals(a.namespace()) || !g.name().equals(a.group())) {
        continue;
      }
      WorkloadEntry t = g.spec().template();
      Map<String, String> labels = new HashMap<>();
      if (t != null) {
        labels.putAll(t.labels());
      }
      if (g.spec().metadata() != null) {
        labels.putAll(g.spec().metadata().labels());
      }
      labels.putAll(a.labels());
      WorkloadEntry entry =
          new WorkloadEntry(
              a.address(),
              t == null ? Map.of() : t.ports(),
              labels,
              t == null ? null : t.network(),
              t == null ? null : t.locality(),
              t == null ? null : t.weight(),
              t == null ? null : t.serviceAccount());
      return Resource.of(a.namespace(), entryName(a), entry);
    }
    warn.add(
        "WorkloadGroup "
            + a.namespace()
            + "/"
            + a.group()
            + ": not found; the proxy at "
            + a.address()
            + " asked to be registered from it (metadata AUTO_REGISTER_GROUP)");
    return null;
  }
}
