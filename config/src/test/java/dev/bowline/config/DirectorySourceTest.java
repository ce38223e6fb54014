package dev.bowline.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.api.Kind;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.validation.Validator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real files in a real directory, edited, renamed and deleted while the source watches. */
class DirectorySourceTest {
  // Generous: this is a correctness test on a shared machine; latency is measured in bench/.
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private final ConfigStore store = new ConfigStore(new Validator(), Clock.systemUTC());
  private final List<ConfigEvent> events = new CopyOnWriteArrayList<>();
  private DirectorySource source;

  @AfterEach
  void stop() throws Exception {
    if (source != null) {
      source.close();
    }
  }

  private void start() throws Exception {
    store.subscribe(events::add);
    source = new DirectorySource(dir, store, new ResourceCodec());
    source.start();
  }

  private static ResourceKey vs(String name) {
    return new ResourceKey(Kind.VIRTUAL_SERVICE, "weather", name);
  }

  private int weightOf(String name) {
    return store
        .get(vs(name))
        .map(r -> ((VirtualService) r.spec()).http().getFirst().route().getFirst().weight())
        .orElse(-999);
  }

  @Test
  void readsTheTreeThenFollowsEditsRenamesAndDeletes() throws Exception {
    Files.writeString(dir.resolve("forecast.yaml"), ConfigStoreTest.vs("forecast", 90));
    Files.createDirectories(dir.resolve("nested/deeper"));
    Files.writeString(
        dir.resolve("nested/deeper/frontend.yml"), ConfigStoreTest.vs("frontend", 50));
    Files.writeString(dir.resolve("notes.txt"), "not config");
    Files.createDirectories(dir.resolve(".git"));
    Files.writeString(dir.resolve(".git/ignored.yaml"), ConfigStoreTest.vs("ignored", 50));
    start();
    assertThat(store.snapshot().resources().keySet())
        .containsExactlyInAnyOrder(vs("forecast"), vs("frontend"));

    // A valid edit is seen and replaces the resource.
    replace(dir.resolve("forecast.yaml"), ConfigStoreTest.vs("forecast", 60));
    await().atMost(WAIT).until(() -> weightOf("forecast") == 60);
    assertThat(events).last().isInstanceOf(ConfigEvent.Updated.class);

    // A bad edit keeps the previous version and says so in the status.
    replace(dir.resolve("forecast.yaml"), ConfigStoreTest.vs("forecast", -5));
    await().atMost(WAIT).until(() -> !store.status().rejections().isEmpty());
    assertThat(weightOf("forecast")).isEqualTo(60);
    Rejection r = store.status().rejections().getFirst();
    assertThat(r.keptPrevious()).isTrue();
    assertThat(r.errors().getFirst().toString())
        .isEqualTo(
            "VirtualService weather/forecast: spec.http[0].route[0].weight: must not be negative");

    // Fixing it clears the rejection.
    replace(dir.resolve("forecast.yaml"), ConfigStoreTest.vs("forecast", 40));
    await()
        .atMost(WAIT)
        .until(() -> weightOf("forecast") == 40 && store.status().rejections().isEmpty());

    // A rename keeps the resource (now owned by the new file).
    Files.move(
        dir.resolve("forecast.yaml"),
        dir.resolve("forecast-renamed.yaml"),
        StandardCopyOption.ATOMIC_MOVE);
    await()
        .atMost(WAIT)
        .until(() -> store.sources().contains(dir.resolve("forecast-renamed.yaml").toString()));
    assertThat(weightOf("forecast")).isEqualTo(40);

    // A copy that is deleted again leaves the resource in force (the original still declares it).
    Files.copy(dir.resolve("forecast-renamed.yaml"), dir.resolve("forecast-copy.yaml"));
    await()
        .atMost(WAIT)
        .until(() -> store.sources().contains(dir.resolve("forecast-copy.yaml").toString()));
    Files.delete(dir.resolve("forecast-copy.yaml"));
    await()
        .atMost(WAIT)
        .until(() -> !store.sources().contains(dir.resolve("forecast-copy.yaml").toString()));
    assertThat(weightOf("forecast")).isEqualTo(40);

    // A new directory with a file is picked up.
    Files.createDirectories(dir.resolve("later"));
    Files.writeString(
        dir.resolve("later/ads.json"),
        """
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
         "metadata": {"name": "ads", "namespace": "weather"},
         "spec": {"hosts": ["ads"], "http": [{"route": [{"destination": {"host": "ads"}}]}]}}
        """);
    await().atMost(WAIT).until(() -> store.get(vs("ads")).isPresent());

    // Deleting a file deletes its resources; deleting a directory deletes what it held.
    Files.delete(dir.resolve("forecast-renamed.yaml"));
    await().atMost(WAIT).until(() -> store.get(vs("forecast")).isEmpty());
    Files.delete(dir.resolve("nested/deeper/frontend.yml"));
    Files.delete(dir.resolve("nested/deeper"));
    await().atMost(WAIT).until(() -> store.get(vs("frontend")).isEmpty());
    assertThat(store.snapshot().resources().keySet()).containsExactly(vs("ads"));
    assertThat(events).last().isInstanceOf(ConfigEvent.Deleted.class);
  }

  @Test
  void oneBadDocumentInAFileOfTenKeepsTheOtherNine() throws Exception {
    start();
    StringBuilder yaml = new StringBuilder("# ten services\n");
    for (int i = 0; i < 10; i++) {
      yaml.append("---\n").append(ConfigStoreTest.vs("svc-" + i, i == 7 ? -1 : 50));
    }
    Files.writeString(dir.resolve("ten.yaml"), yaml);
    await()
        .atMost(WAIT)
        .until(() -> store.status().total() == 9 && store.status().rejections().size() == 1);
    assertThat(store.get(vs("svc-7"))).isEmpty();
    assertThat(store.status().rejections().getFirst().source())
        .isEqualTo(dir.resolve("ten.yaml").toString());
  }

  @Test
  void meshYamlInTheRootFeedsTheMeshConfigWithLastKnownGood() throws Exception {
    Files.writeString(dir.resolve("mesh.yaml"), "outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n");
    Files.createDirectories(dir.resolve("team"));
    Files.writeString(dir.resolve("team/mesh.yaml"), "not: [a, mesh, config\n");
    MeshConfigStore mesh =
        new MeshConfigStore(new ResourceCodec(), new Validator(), Clock.systemUTC());
    List<MeshConfig> seen = new CopyOnWriteArrayList<>();
    mesh.subscribe(seen::add);
    source = new DirectorySource(dir, store, new ResourceCodec(), mesh);
    source.start();
    assertThat(mesh.current().outboundTrafficPolicy().mode())
        .isEqualTo(MeshConfig.OutboundTrafficPolicy.Mode.REGISTRY_ONLY);
    assertThat(store.status().rejections()).as("nested mesh.yaml is skipped").isEmpty();

    replace(dir.resolve("mesh.yaml"), "outboundTrafficPolicy: {mode: ALLOW_ALL}\n");
    await().atMost(WAIT).until(() -> mesh.rejection().isPresent());
    assertThat(mesh.current().outboundTrafficPolicy().mode())
        .isEqualTo(MeshConfig.OutboundTrafficPolicy.Mode.REGISTRY_ONLY);
    assertThat(mesh.rejection().orElseThrow().errors().getFirst().toString())
        .isEqualTo(
            "MeshConfig "
                + dir.resolve("mesh.yaml")
                + ": outboundTrafficPolicy.mode: unknown value \"ALLOW_ALL\"; must be one of REGISTRY_ONLY, ALLOW_ANY");

    replace(dir.resolve("mesh.yaml"), "trustDomain: weather.example\n");
    await().atMost(WAIT).until(() -> "weather.example".equals(mesh.current().trustDomain()));
    assertThat(mesh.rejection()).isEmpty();

    Files.delete(dir.resolve("mesh.yaml"));
    await().atMost(WAIT).until(() -> mesh.current().equals(MeshConfig.defaults()));
    assertThat(seen).hasSize(3);
  }

  @Test
  void meshYamlsOfSeveralDirectoriesAreLayeredAsIstiodAppliesOneOverItsDefaults() throws Exception {
    // the runner's directory first (its profile: tracing to its collector), then the user's
    Path profile = Files.createDirectories(dir.resolve("profile"));
    Path user = Files.createDirectories(dir.resolve("user"));
    Files.writeString(
        profile.resolve("mesh.yaml"),
        """
        enableTracing: true
        defaultConfig: {tracing: {sampling: 100}}
        defaultProviders: {tracing: [otel]}
        extensionProviders:
        - {name: otel, opentelemetry: {service: otel-collector.istio-system.svc.cluster.local, port: 4317}}
        """);
    Files.writeString(
        user.resolve("mesh.yaml"),
        """
        accessLogFile: /dev/stdout
        defaultConfig: {concurrency: 3}
        extensionProviders:
        - {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}}
        """);
    MeshConfigStore mesh =
        new MeshConfigStore(new ResourceCodec(), new Validator(), Clock.systemUTC());
    try (DirectorySource first = new DirectorySource(profile, store, new ResourceCodec(), mesh);
        DirectorySource second = new DirectorySource(user, store, new ResourceCodec(), mesh)) {
      first.start();
      second.start();
      MeshConfig m = mesh.current();
      assertThat(m.accessLogFile()).isEqualTo("/dev/stdout");
      assertThat(m.enableTracing()).isTrue();
      assertThat(m.defaultConfig().concurrency()).isEqualTo(3);
      assertThat(m.defaultConfig().tracing().sampling()).isEqualTo(100.0);
      assertThat(m.defaultProviders().tracing()).containsExactly("otel");
      assertThat(m.extensionProviders().stream().map(p -> p.name())).contains("otel", "zipkin");

      // the user's own defaultProviders win; the profile's providers stay defined
      replace(
          user.resolve("mesh.yaml"),
          """
          accessLogFile: /dev/stdout
          defaultProviders: {tracing: [zipkin]}
          extensionProviders:
          - {name: zipkin, zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}}
          """);
      await()
          .atMost(WAIT)
          .until(() -> mesh.current().defaultProviders().tracing().equals(List.of("zipkin")));
      assertThat(mesh.current().extensionProviders().stream().map(p -> p.name()))
          .contains("otel", "zipkin");
      assertThat(mesh.current().defaultConfig().tracing().sampling()).isEqualTo(100.0);

      // deleting the user's file leaves the profile's layer alone
      Files.delete(user.resolve("mesh.yaml"));
      await()
          .atMost(WAIT)
          .until(
              () ->
                  mesh.current().accessLogFile() == null
                      || mesh.current().accessLogFile().isEmpty());
      assertThat(mesh.current().defaultProviders().tracing()).containsExactly("otel");
      assertThat(mesh.current().enableTracing()).isTrue();
    }
  }

  /**
   * Replaces {@code file}'s content in one step, as an editor's save-as-rename or a ConfigMap
   * update does. A plain write is a truncate and then a write; on a loaded machine the two can come
   * further apart than the watcher's settle time, and the empty file read in between is a real
   * state (its resources deleted, an extra MeshConfig seen) that these tests do not expect.
   */
  private static void replace(Path file, String content) throws Exception {
    Path next = file.resolveSibling(file.getFileName() + ".next");
    Files.writeString(next, content);
    Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
