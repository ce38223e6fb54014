package dev.bowline.controlplane.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PushTest {
  static PushRequest eds(String host, long start) {
    return new PushRequest(false, Set.of(host), start, Set.of("endpoint"));
  }

  /** A clock the test moves by hand; the scheduler still runs on real time, so checks re-arm. */
  @Test
  void scopedFullPushesMergeAndAnUnscopedOneWins() {
    PushScope vs = new PushScope(Set.of("a.example"), Set.of("lds", "rds"));
    PushScope dr = new PushScope(Set.of("b.example"), Set.of("cds"));
    PushRequest a = new PushRequest(true, Set.of(), 5, Set.of("config"), vs);
    PushRequest b = new PushRequest(true, Set.of(), 3, Set.of("config"), dr);
    PushRequest eds = new PushRequest(false, Set.of("c.example"), 1, Set.of("endpoint"));

    PushRequest both = a.merge(b);
    assertThat(both.scope().hosts()).containsExactlyInAnyOrder("a.example", "b.example");
    assertThat(both.pushesType("cds")).isTrue();
    assertThat(both.pushesType("eds")).isFalse();
    assertThat(both.startNanos()).isEqualTo(3);
    // an EDS-only request keeps the scope and adds its hosts
    PushRequest withEds = eds.merge(a);
    assertThat(withEds.scope()).isEqualTo(vs);
    assertThat(withEds.edsHosts()).containsExactly("c.example");
    assertThat(withEds.edsOnly().full()).isFalse();
    // an unscoped full push covers everything
    PushRequest all = new PushRequest(true, Set.of(), 9, Set.of("service"));
    assertThat(both.merge(all).scope()).isNull();
    assertThat(all.merge(a).pushesType("eds")).isTrue();
    // config patterns: exact, wildcard, short names
    assertThat(PushScope.covers("a.example", "a.example")).isTrue();
    assertThat(PushScope.covers("*.example", "a.example")).isTrue();
    assertThat(PushScope.covers("forecast", "forecast.weather.svc.cluster.local")).isTrue();
    assertThat(PushScope.covers("forecast", "forecastx.weather.svc.cluster.local")).isFalse();
    assertThat(PushScope.covers("b.example", "a.example")).isFalse();
  }

  @Test
  void debounceMergesABurstAndReleasesAfterQuiet() throws Exception {
    AtomicLong now = new AtomicLong();
    List<PushRequest> released = new CopyOnWriteArrayList<>();
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try (Debouncer d =
        new Debouncer(
            Duration.ofMillis(50), Duration.ofSeconds(10), scheduler, now::get, released::add)) {
      d.submit(eds("a", 0));
      now.set(Duration.ofMillis(30).toNanos());
      d.submit(eds("b", 30));
      d.submit(new PushRequest(true, Set.of(), 31, Set.of("service")));
      // The clock stands still: still within the quiet period, nothing may be released.
      Thread.sleep(150);
      assertThat(released).isEmpty();
      now.set(Duration.ofMillis(81).toNanos());
      await().atMost(Duration.ofSeconds(5)).until(() -> released.size() == 1);
      PushRequest r = released.getFirst();
      assertThat(r.full()).isTrue();
      assertThat(r.edsHosts()).containsExactlyInAnyOrder("a", "b");
      assertThat(r.startNanos()).isZero();
      assertThat(r.reasons()).containsExactly("endpoint", "service");
    }
  }

  @Test
  void debounceReleasesAtMaxEvenIfEventsKeepComing() throws Exception {
    AtomicLong now = new AtomicLong();
    List<PushRequest> released = new CopyOnWriteArrayList<>();
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    try (Debouncer d =
        new Debouncer(
            Duration.ofMillis(20), Duration.ofMillis(100), scheduler, now::get, released::add)) {
      for (int ms = 0; ms <= 100 && released.isEmpty(); ms += 10) {
        now.set(Duration.ofMillis(ms).toNanos());
        d.submit(eds("h" + ms, ms));
        Thread.sleep(15); // events come faster than the quiet period, forever
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> !released.isEmpty());
      assertThat(released.getFirst().edsHosts()).contains("h0", "h90");
    }
  }

  @Test
  void queueMergesPerConnectionAndBoundsConcurrency() throws Exception {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    List<String> pushed = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    try (PushQueue<String> q =
        new PushQueue<>(
            2,
            "test-push",
            (conn, req) -> {
              maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
              try {
                release.await(5, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              pushed.add(conn + ":" + new java.util.TreeSet<>(req.edsHosts()));
              running.decrementAndGet();
            })) {
      for (int i = 0; i < 20; i++) {
        q.enqueue("p" + i, eds("h", 0));
      }
      q.enqueue("p19", eds("h2", 0)); // merges into p19's pending request
      await().atMost(Duration.ofSeconds(5)).until(() -> running.get() == 2);
      assertThat(q.pendingCount()).isEqualTo(18);
      release.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> pushed.size() == 20);
      assertThat(maxRunning.get()).isEqualTo(2);
      assertThat(pushed).contains("p19:[h, h2]");
    }
  }
}
