package dev.bowline.controlplane.config;

import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.ConfigEvent;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.config.ConfigStore;
import dev.bowline.config.DirectorySource;
import dev.bowline.config.MeshConfigStore;
import dev.bowline.config.Rejection;
import dev.bowline.config.StoreStatus;
import dev.bowline.controlplane.ControlPlane;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Istio config from directories into a control plane: a {@link ConfigStore} fed by one {@link
 * DirectorySource} per directory; every change the store accepts rebuilds the {@link
 * IstioConfigInputs} from a fresh snapshot and hands them to the control plane, which debounces a
 * full push. A change the store refuses changes nothing: the last good config stays in force.
 * {@code /debug/configz} lists what is in force and what was refused; {@code POST /config/apply}
 * and {@code /config/delete} change it ({@link ConfigApi}, {@code bowline apply/delete}).
 */
public final class ConfigFeed implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ConfigFeed.class.getName());

  private final ControlPlane controlPlane;
  private final ConfigStore store;
  private final List<DirectorySource> sources = new ArrayList<>();
  private final AutoCloseable subscription;
  private final MeshConfigStore mesh;
  private final AutoCloseable meshSubscription;
  private final List<Message> initialMeshErrors = new ArrayList<>();
  private @Nullable MeshConfigFile meshFile;
  private volatile String rootNamespace;

  private ConfigFeed(ControlPlane controlPlane, ConfigStore store, MeshConfigStore mesh) {
    this.controlPlane = controlPlane;
    this.store = store;
    this.mesh = mesh;
    this.rootNamespace = rootNamespaceOf(mesh.current());
    this.subscription = store.subscribe(this::onEvent);
    this.meshSubscription = mesh.subscribe(this::onMeshConfig);
  }

  /**
   * Reads every directory (returning once the first read of each is done and handed to the control
   * plane) and watches them for changes; a {@code mesh.yaml} at the top of a directory is the
   * MeshConfig. Start it before the control plane so that the first proxies already get this
   * config; started later, it reaches them with the next (debounced) push.
   */
  public static ConfigFeed start(ControlPlane controlPlane, List<Path> directories, Clock clock)
      throws IOException {
    return start(controlPlane, directories, null, clock);
  }

  /**
   * As {@link #start(ControlPlane, List, Clock)}, with the MeshConfig from {@code meshConfigFile}
   * (a MeshConfig or the {@code istio} ConfigMap; watched) when given, in which case a {@code
   * mesh.yaml} in the directories is not read (decision 0021). A MeshConfig that does not read or
   * validate at start leaves Istio's defaults in force and is listed by {@link
   * #initialMeshConfigErrors()}; later it leaves the last good one in force.
   */
  public static ConfigFeed start(
      ControlPlane controlPlane, List<Path> directories, @Nullable Path meshConfigFile, Clock clock)
      throws IOException {
    Objects.requireNonNull(controlPlane, "controlPlane");
    MeshConfigStore meshStore = new MeshConfigStore(new ResourceCodec(), new Validator(), clock);
    ConfigFeed feed =
        new ConfigFeed(controlPlane, new ConfigStore(new Validator(), clock), meshStore);
    try {
      if (meshConfigFile != null) {
        feed.meshFile = MeshConfigFile.start(meshConfigFile, meshStore, feed.initialMeshErrors);
      }
      for (Path dir : directories) {
        DirectorySource source =
            new DirectorySource(
                dir, feed.store, new ResourceCodec(), meshConfigFile == null ? meshStore : null);
        feed.sources.add(source);
        source.start();
      }
    } catch (IOException | RuntimeException e) {
      feed.close();
      throw e;
    }
    if (meshConfigFile == null) {
      meshStore.rejection().ifPresent(r -> feed.initialMeshErrors.addAll(r.errors()));
    }
    feed.publish("config-initial");
    controlPlane.addDebugEndpoint("/debug/configz", feed::configz);
    ConfigApi api = new ConfigApi(feed.store, new Validator(), new ResourceCodec());
    controlPlane.addDebugHandler("/config/apply", api.applyHandler());
    controlPlane.addDebugHandler("/config/delete", api.deleteHandler());
    return feed;
  }

  /** The store the directories feed. */
  public ConfigStore store() {
    return store;
  }

  /** The MeshConfig store (last good MeshConfig, the latest refusal). */
  public MeshConfigStore meshConfig() {
    return mesh;
  }

  /**
   * Why the MeshConfig read at start was refused (Istio's defaults are then in force), each error
   * naming the field; empty when it was applied or there was none.
   */
  public List<Message> initialMeshConfigErrors() {
    return List.copyOf(initialMeshErrors);
  }

  /**
   * A new MeshConfig (the store accepted it): every proxy is pushed; a new {@code rootNamespace}
   * also rebuilds the config inputs (mesh-wide Sidecar, PeerAuthentication...).
   */
  private void onMeshConfig(MeshConfig next) {
    controlPlane.updateMeshConfig(next, "meshconfig");
    String root = rootNamespaceOf(next);
    if (!root.equals(rootNamespace)) {
      rootNamespace = root;
      publish("meshconfig");
    }
  }

  private static String rootNamespaceOf(MeshConfig m) {
    return m.rootNamespace() == null || m.rootNamespace().isEmpty()
        ? IstioConfigInputs.ROOT_NAMESPACE
        : m.rootNamespace();
  }

  /**
   * A WorkloadEntry change only moves endpoints: the registry takes it and its diff pushes EDS to
   * the proxies watching the affected services, not a full push to everyone (istiod's scoped push
   * for WorkloadEntry events). Every other kind is a full push.
   */
  private void onEvent(ConfigEvent event) {
    Resource<?> changed =
        switch (event) {
          case ConfigEvent.Added a -> a.resource();
          case ConfigEvent.Updated u -> u.resource();
          case ConfigEvent.Deleted d -> d.previous();
        };
    if (changed.spec() instanceof dev.bowline.api.model.WorkloadEntry) {
      controlPlane.registry().updateConfig(store.snapshot());
      return;
    }
    publish("config");
  }

  /**
   * Serialized: a config event and a MeshConfig change (new root namespace) may publish at once,
   * and the later one must read both latest states.
   */
  private synchronized void publish(String reason) {
    ConfigSnapshot snapshot = store.snapshot();
    controlPlane.updateConfig(
        snapshot,
        IstioConfigInputs.of(
            snapshot, controlPlane.options().domainSuffix(), rootNamespace, mesh.current()),
        reason);
    LOG.log(Level.DEBUG, () -> "event=config_inputs version=" + snapshot.version());
  }

  /** {@code /debug/configz}: the store version, resources in force, refused changes, warnings. */
  Object configz() {
    ConfigSnapshot snapshot = store.snapshot();
    StoreStatus status = store.status();
    List<Map<String, Object>> resources = new ArrayList<>();
    for (Resource<?> r : snapshot.resources().values()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("kind", r.kind().toString());
      m.put("namespace", r.namespace());
      m.put("name", r.name());
      m.put("resourceVersion", r.resourceVersion());
      resources.add(m);
    }
    List<Map<String, Object>> rejections = new ArrayList<>();
    for (Rejection rj : status.rejections()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("source", rj.source());
      m.put("resource", rj.key() == null ? "" : rj.key().toString());
      m.put("keptPrevious", rj.keptPrevious());
      m.put("at", rj.at().toString());
      m.put(
          "errors",
          rj.errors().stream()
              .map(e -> (e.path().isEmpty() ? "" : e.path() + ": ") + e.text())
              .toList());
      rejections.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("version", snapshot.version());
    out.put("resources", resources);
    out.put("rejections", rejections);
    out.put(
        "warnings",
        status.warnings().stream()
            .map(w -> w.resource() + " " + w.path() + ": " + w.text())
            .toList());
    MeshConfig m = mesh.current();
    Map<String, Object> meshz = new LinkedHashMap<>();
    meshz.put("trustDomain", m.trustDomain());
    meshz.put("trustDomainAliases", m.trustDomainAliases());
    meshz.put("rootNamespace", m.rootNamespace());
    meshz.put(
        "outboundTrafficPolicy",
        m.outboundTrafficPolicy() == null || m.outboundTrafficPolicy().mode() == null
            ? "ALLOW_ANY"
            : m.outboundTrafficPolicy().mode().name());
    mesh.rejection()
        .ifPresent(
            rj ->
                meshz.put(
                    "rejection",
                    Map.of(
                        "source", rj.source(),
                        "at", rj.at().toString(),
                        "keptPrevious", true,
                        "errors", rj.errors().stream().map(Message::toString).toList())));
    out.put("meshConfig", meshz);
    return out;
  }

  @Override
  public void close() {
    if (meshFile != null) {
      meshFile.close();
    }
    try {
      meshSubscription.close();
      subscription.close();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "event=config_unsubscribe_failed error=" + e);
    }
    for (DirectorySource s : sources) {
      try {
        s.close();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "event=config_source_close_failed error=" + e);
      }
    }
  }
}
