package dev.bowline.proxy.tracing;

import static dev.bowline.proxy.tracing.TraceContextTest.headers;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplingTest {
  static TracingConfig config(int random, int client, int overall) {
    return new TracingConfig(
        new TracingConfig.Zipkin("z", "/api/v2/spans", true, false),
        random,
        client,
        overall,
        List.of(),
        false,
        256,
        false,
        new TracingConfig.LocalNode("n", "c", "z"));
  }

  // 0x000003e8 = 1000 -> key 1000; 0x00002710 = 10000 -> key 0
  static final String KEY_1000 = "000003e8-1111-4222-8333-444444444444";

  @Test
  void randomSamplingIsKeyedByTheRequestIdSoEveryProxyDecidesAlike() {
    HttpHeaders in = headers("x-request-id", KEY_1000);
    assertThat(Sampling.decide(in, config(1000, 10_000, 10_000), new SplittableRandom(1)))
        .isFalse();
    assertThat(in.get("x-request-id")).isEqualTo(KEY_1000); // not traced: untouched, no allocation
    HttpHeaders in2 = headers("x-request-id", KEY_1000);
    assertThat(Sampling.decide(in2, config(1001, 10_000, 10_000), new SplittableRandom(1)))
        .isTrue();
    assertThat(in2.get("x-request-id")).isEqualTo("000003e8-1111-9222-8333-444444444444");
    // a later proxy keeps the decision, whatever its own rate
    assertThat(Sampling.decide(in2, config(0, 10_000, 10_000), new SplittableRandom(1))).isTrue();
  }

  @Test
  void forceAndClientTraceHeadersTraceAndMarkTheRequestId() {
    HttpHeaders forced = headers("x-request-id", KEY_1000, "x-envoy-force-trace", "true");
    assertThat(Sampling.decide(forced, config(0, 10_000, 10_000), new SplittableRandom(1)))
        .isTrue();
    assertThat(Sampling.reason(forced.get("x-request-id"))).isEqualTo('a');
    HttpHeaders client = headers("x-request-id", KEY_1000, "x-client-trace-id", "abc");
    assertThat(Sampling.decide(client, config(0, 10_000, 10_000), new SplittableRandom(1)))
        .isTrue();
    assertThat(Sampling.reason(client.get("x-request-id"))).isEqualTo('b');
    HttpHeaders clientOff = headers("x-request-id", KEY_1000, "x-client-trace-id", "abc");
    assertThat(Sampling.decide(clientOff, config(0, 0, 10_000), new SplittableRandom(1))).isFalse();
  }

  @Test
  void overallSamplingVetoesEvenAForcedTrace() {
    HttpHeaders forced = headers("x-request-id", KEY_1000, "x-envoy-force-trace", "true");
    assertThat(Sampling.decide(forced, config(10_000, 10_000, 1000), new SplittableRandom(1)))
        .isFalse();
    assertThat(Sampling.reason(forced.get("x-request-id"))).isEqualTo('4');
  }

  @Test
  void aMalformedOrMissingRequestIdDecidesNothing() {
    assertThat(Sampling.decide(headers(), config(10_000, 10_000, 10_000), new SplittableRandom(1)))
        .isFalse();
    assertThat(
            Sampling.decide(
                headers("x-request-id", "not-a-uuid"),
                config(10_000, 10_000, 10_000),
                new SplittableRandom(1)))
        .isFalse();
  }

  @Test
  void aboutOnePercentOfRandomRequestIdsAreSampledAtOnePercent() {
    var rnd = new SplittableRandom(42);
    int traced = 0;
    int n = 200_000;
    TracingConfig onePercent = config(100, 10_000, 10_000);
    for (int i = 0; i < n; i++) {
      String rid =
          new java.util.UUID(rnd.nextLong() & ~0xF000L | 0x4000L, rnd.nextLong()).toString();
      if (Sampling.decide(headers("x-request-id", rid), onePercent, rnd)) {
        traced++;
      }
    }
    assertThat(traced).isBetween(n / 100 - 300, n / 100 + 300);
  }
}
