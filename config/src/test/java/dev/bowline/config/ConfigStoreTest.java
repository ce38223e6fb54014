package dev.bowline.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Decoded;
import dev.bowline.api.Kind;
import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.validation.Validator;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigStoreTest {
  private final ResourceCodec codec = new ResourceCodec();
  private final ConfigStore store =
      new ConfigStore(
          new Validator(), Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));
  private final List<ConfigEvent> events = new ArrayList<>();

  ConfigStoreTest() {
    store.subscribe(events::add);
  }

  static String vs(String name, int weight) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: weather}
        spec:
          hosts: [%s]
          http:
          - route:
            - destination: {host: %s, subset: v1}
              weight: %d
            - destination: {host: %s, subset: v2}
              weight: 10
        """
        .formatted(name, name, name, weight, name);
  }

  private Resource<?> one(String yaml) {
    Decoded d = codec.decode("test", yaml);
    assertThat(d.errors()).isEmpty();
    return d.resources().getFirst();
  }

  @Test
  void applyAssignsVersionsAndSendsTypedEvents() {
    ApplyResult first = store.apply(one(vs("forecast", 90)));
    assertThat(first.ok()).isTrue();
    Resource<?> stored = first.applied().getFirst();
    assertThat(stored.resourceVersion()).isEqualTo("1");

    assertThat(store.apply(one(vs("forecast", 90))).unchanged()).hasSize(1);
    ApplyResult second = store.apply(one(vs("forecast", 80)));
    assertThat(second.applied().getFirst().resourceVersion()).isEqualTo("2");

    ResourceKey key = new ResourceKey(Kind.VIRTUAL_SERVICE, "weather", "forecast");
    assertThat(store.delete(key)).isTrue();
    assertThat(store.delete(key)).isFalse();

    assertThat(events)
        .satisfiesExactly(
            e -> assertThat(e).isInstanceOf(ConfigEvent.Added.class),
            e -> {
              assertThat(e).isInstanceOf(ConfigEvent.Updated.class);
              var u = (ConfigEvent.Updated) e;
              assertThat(u.previous().resourceVersion()).isEqualTo("1");
              assertThat(u.resource().resourceVersion()).isEqualTo("2");
            },
            e -> assertThat(e).isEqualTo(new ConfigEvent.Deleted(second.applied().getFirst())));
    assertThat(store.get(key)).isEmpty();
    // apply, update, delete: the snapshot carries the store's version.
    assertThat(store.snapshot().version()).isEqualTo(3);
  }

  @Test
  void anInvalidChangeNeverReplacesTheValidOne() {
    store.apply(one(vs("forecast", 90)));
    events.clear();
    ApplyResult bad = store.apply(one(vs("forecast", -90)));
    assertThat(bad.ok()).isFalse();
    Rejection r = bad.rejected().getFirst();
    assertThat(r.keptPrevious()).isTrue();
    assertThat(r.errors())
        .extracting(Message::toString)
        .containsExactly(
            "VirtualService weather/forecast: spec.http[0].route[0].weight: must not be negative");
    assertThat(events).isEmpty();
    VirtualService inForce = store.list(VirtualService.class).getFirst().spec();
    assertThat(inForce.http().getFirst().route().getFirst().weight()).isEqualTo(90);
    assertThat(store.status().rejections()).containsExactly(r);

    store.apply(one(vs("forecast", 70)));
    assertThat(store.status().rejections()).isEmpty();
  }

  @Test
  void oneBadDocumentAmongTenAppliesNineAndReportsOne() {
    StringBuilder yaml = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      yaml.append("---\n").append(vs("svc-" + i, i == 4 ? -1 : 50));
    }
    ApplyResult result = store.replaceSource("ten.yaml", codec.decode("ten.yaml", yaml.toString()));
    assertThat(result.applied()).hasSize(9);
    assertThat(result.rejected())
        .singleElement()
        .satisfies(r -> assertThat(r.key().name()).isEqualTo("svc-4"));
    assertThat(store.status().total()).isEqualTo(9);
    assertThat(store.status().resources()).containsEntry(Kind.VIRTUAL_SERVICE, 9);
  }

  @Test
  void aSourceOwnsItsResources() {
    store.replaceSource("a.yaml", codec.decode("a.yaml", vs("one", 50) + "---\n" + vs("two", 50)));
    assertThat(store.snapshot().resources()).hasSize(2);

    // "two" left the file: it is deleted.
    store.replaceSource("a.yaml", codec.decode("a.yaml", vs("one", 50)));
    assertThat(store.snapshot().resources().keySet())
        .extracting(ResourceKey::name)
        .containsExactly("one");

    // A document that cannot be identified: nothing of the file is deleted.
    store.replaceSource("a.yaml", codec.decode("a.yaml", "kind: [broken\n"));
    assertThat(store.snapshot().resources().keySet())
        .extracting(ResourceKey::name)
        .containsExactly("one");
    assertThat(store.status().rejections())
        .singleElement()
        .satisfies(r -> assertThat(r.key()).isNull());

    assertThat(store.removeSource("a.yaml")).extracting(ResourceKey::name).containsExactly("one");
    assertThat(store.snapshot().resources()).isEmpty();
    assertThat(store.status().rejections()).isEmpty();
  }

  @Test
  void aSubscriberThatThrowsDoesNotStopTheOthers() {
    List<ConfigEvent> second = new ArrayList<>();
    store.subscribe(
        e -> {
          throw new IllegalStateException("boom");
        });
    store.subscribe(second::add);
    store.apply(one(vs("forecast", 90)));
    assertThat(second).hasSize(1);
    assertThat(events).hasSize(1);
  }

  @Test
  void concurrentWritersLeaveOneConsistentHistory() throws Exception {
    List<Resource<?>> resources = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      resources.add(one(vs("svc-" + i, 50)));
    }
    List<ConfigEvent> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    store.subscribe(seen::add);
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      int offset = w;
      writers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = offset; i < resources.size(); i += 4) {
                      store.apply(resources.get(i));
                      if (i % 3 == 0) {
                        store.delete(resources.get(i).key());
                      }
                    }
                  }));
    }
    for (Thread t : writers) {
      t.join();
    }
    long deleted = java.util.stream.IntStream.range(0, 200).filter(i -> i % 3 == 0).count();
    assertThat(store.status().total()).isEqualTo(200 - deleted);
    assertThat(seen).hasSize(200 + (int) deleted);
    // Every change got its own version, and subscribers saw them in version order.
    List<Long> versions =
        seen.stream()
            .filter(e -> !(e instanceof ConfigEvent.Deleted))
            .map(e -> Long.parseLong(((ConfigEvent.Added) e).resource().resourceVersion()))
            .toList();
    assertThat(versions).isSorted().doesNotHaveDuplicates();
    assertThat(store.snapshot().version()).isEqualTo(200 + deleted);
  }

  @Test
  void aResourceDeclaredByTwoSourcesSurvivesEitherGoing() {
    ResourceKey key = new ResourceKey(Kind.VIRTUAL_SERVICE, "weather", "shared");
    store.replaceSource("a.yaml", codec.decode("a.yaml", vs("shared", 70)));
    store.replaceSource("b.yaml", codec.decode("b.yaml", vs("shared", 30)));
    assertThat(weight(key)).isEqualTo(30);
    assertThat(store.status().warnings())
        .extracting(Message::toString)
        .containsExactly(
            "VirtualService weather/shared: defined in 2 sources (a.yaml, b.yaml); the version from b.yaml is in force");

    events.clear();
    assertThat(store.removeSource("b.yaml")).isEmpty();
    assertThat(weight(key)).isEqualTo(70);
    assertThat(events).singleElement().isInstanceOf(ConfigEvent.Updated.class);
    assertThat(store.status().warnings()).isEmpty();

    assertThat(store.removeSource("a.yaml")).containsExactly(key);
    assertThat(store.get(key)).isEmpty();
  }

  private int weight(ResourceKey key) {
    return ((VirtualService) store.get(key).orElseThrow().spec())
        .http()
        .getFirst()
        .route()
        .getFirst()
        .weight();
  }
}
