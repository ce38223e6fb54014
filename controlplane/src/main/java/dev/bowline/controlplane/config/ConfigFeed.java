package dev.bowline.controlplane.config;

import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.ConfigEvent;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.config.ConfigStore;
import dev.bowline.config.DirectorySource;
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
  private final String rootNamespace;

  private final dev.bowline.config.MeshConfigStore mesh;
  private @org.jspecify.annotations.Nullable AutoCloseable meshSubscription;

  private ConfigFeed(ControlPlane controlPlane, ConfigStore store, String rootNamespace) {
    this.controlPlane = controlPlane;
    this.store = store;
    this.rootNamespace = rootNamespace;
    this.mesh =
        new dev.bowline.config.MeshConfigStore(
            new ResourceCodec(), new Validator(), Clock.systemUTC());
    this.subscription = store.subscribe(this::onEvent);
  }

  /** The MeshConfig in force. */
  public dev.bowline.api.mesh.MeshConfig meshConfig() {
    return mesh.current();
  }

  /**
   * Reads every directory (returning once the first read of each is done and handed to the control
   * plane) and watches them for changes. Start it before the control plane so that the first
   * proxies already get this config; started later, it reaches them with the next (debounced) push.
   */
  public static ConfigFeed start(ControlPlane controlPlane, List<Path> directories, Clock clock)
      throws IOException {
    return start(controlPlane, directories, null, clock);
  }

  /**
   * As {@link #start(ControlPlane, List, Clock)}, with the MeshConfig read from {@code meshFile}
   * (istiod's {@code --meshConfig}; read once) or else from a {@code mesh.yaml} at the top of a
   * config directory (watched). A refused mesh config leaves the last good one (at first: Istio's
   * defaults) in force, and is listed in {@code /debug/configz}'s warnings.
   */
  public static ConfigFeed start(
      ControlPlane controlPlane,
      List<Path> directories,
      @org.jspecify.annotations.Nullable Path meshFile,
      Clock clock)
      throws IOException {
    Objects.requireNonNull(controlPlane, "controlPlane");
    ConfigFeed feed =
        new ConfigFeed(
            controlPlane,
            new ConfigStore(new Validator(), clock),
            IstioConfigInputs.ROOT_NAMESPACE);
    try {
      if (meshFile != null) {
        var errors =
            feed.mesh.update(
                meshFile.toString(),
                java.nio.file.Files.readString(meshFile, java.nio.charset.StandardCharsets.UTF_8));
        if (!errors.isEmpty()) {
          throw new IOException(
              "invalid mesh config "
                  + meshFile
                  + ": "
                  + String.join("; ", errors.stream().map(Object::toString).toList()));
        }
      }
      for (Path dir : directories) {
        DirectorySource source =
            new DirectorySource(
                dir, feed.store, new ResourceCodec(), meshFile == null ? feed.mesh : null);
        feed.sources.add(source);
        source.start();
      }
    } catch (IOException | RuntimeException e) {
      feed.close();
      throw e;
    }
    feed.meshSubscription = feed.mesh.subscribe(m -> feed.publish("meshconfig"));
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

  private void publish(String reason) {
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
    return out;
  }

  @Override
  public void close() {
    try {
      subscription.close();
      AutoCloseable m = meshSubscription;
      if (m != null) {
        m.close();
      }
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
