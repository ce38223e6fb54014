package dev.bowline.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bowline.controlplane.dashboard.TrafficGraph.Edge;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Rates and quantiles from two (or more) scrapes of Istio's metrics, as a proxy writes them:
 * counter deltas over the time between scrapes, histogram bucket deltas interpolated as
 * Prometheus's {@code histogram_quantile}, one reporter per edge.
 */
class TrafficGraphTest {
  static final long S = 1_000_000_000L;
  static final double[] BOUNDS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000};

  /** The Prometheus text of one proxy: requests by code, and a duration histogram. */
  static final class Proxy {
    final String reporter;
    final String src;
    final String dst;
    final String dstVersion;
    final Map<String, Long> codes = new TreeMap<>();
    final long[] buckets = new long[BOUNDS.length + 1]; // per bucket (not cumulative), +Inf last

    Proxy(String reporter, String src, String dst, String dstVersion) {
      this.reporter = reporter;
      this.src = src;
      this.dst = dst;
      this.dstVersion = dstVersion;
    }

    /** {@code n} requests answered {@code code} that took {@code millis} each. */
    Proxy add(int n, String code, double millis) {
      codes.merge(code, (long) n, Long::sum);
      int b = 0;
      while (b < BOUNDS.length && millis > BOUNDS[b]) {
        b++;
      }
      buckets[b] += n;
      return this;
    }

    String labels(String code) {
      return "reporter=\""
          + reporter
          + "\",source_workload=\""
          + src
          + "-v1\",source_workload_namespace=\"weather\",source_canonical_service=\""
          + src
          + "\",source_canonical_revision=\"v1\",destination_workload=\""
          + dst
          + "-"
          + dstVersion
          + "\",destination_workload_namespace=\"weather\",destination_canonical_service=\""
          + dst
          + "\",destination_canonical_revision=\""
          + dstVersion
          + "\",destination_service=\""
          + dst
          + ".weather.svc.cluster.local\",destination_service_name=\""
          + dst
          + "\",request_protocol=\"http\""
          + (code == null ? "" : ",response_code=\"" + code + "\"");
    }

    String text() {
      StringBuilder sb = new StringBuilder("# TYPE istio_requests_total counter\n");
      codes.forEach(
          (code, n) ->
              sb.append("istio_requests_total{")
                  .append(labels(code))
                  .append("} ")
                  .append(n)
                  .append('\n'));
      sb.append("# TYPE istio_request_duration_milliseconds histogram\n");
      long cumulative = 0;
      for (int b = 0; b <= BOUNDS.length; b++) {
        cumulative += buckets[b];
        String le = b == BOUNDS.length ? "+Inf" : trim(BOUNDS[b]);
        sb.append("istio_request_duration_milliseconds_bucket{")
            .append(labels("200"))
            .append(",le=\"")
            .append(le)
            .append("\"} ")
            .append(cumulative)
            .append('\n');
      }
      sb.append("envoy_server_uptime 12\n");
      return sb.toString();
    }

    private static String trim(double d) {
      return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
  }

  static List<PrometheusText.Sample> parse(Proxy p) throws Exception {
    return PrometheusText.parse(p.text(), TrafficGraph::wanted);
  }

  static TrafficGraph graph(MetricsWindow w, long now) {
    return TrafficGraph.of(w.totals(now), Instant.EPOCH, Duration.ofSeconds(30));
  }

  static Edge edge(TrafficGraph g, String dstId) {
    return g.edges().stream()
        .filter(e -> e.destination().id().equals(dstId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no edge to " + dstId + " in " + g.edges()));
  }

  @Test
  void ratesAndQuantilesFromTwoScrapes() throws Exception {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(30));
    Proxy p = new Proxy("source", "frontend", "forecast", "v1").add(1000, "200", 3);
    w.record("frontend", 0, parse(p));
    assertThat(graph(w, 0).edges()).as("one scrape has no interval yet").isEmpty();

    // 10 s later: 100 more requests, 90 fast (<= 5 ms), 10 slow (25..50 ms), 5 of them failed.
    p.add(90, "200", 3).add(5, "200", 40).add(5, "503", 40);
    w.record("frontend", 10 * S, parse(p));
    Edge e = edge(graph(w, 10 * S), "weather/forecast/v1");
    assertThat(e.source().id()).isEqualTo("weather/frontend/v1");
    assertThat(e.reporter()).isEqualTo("source");
    assertThat(e.services()).containsExactly("forecast.weather.svc.cluster.local");
    assertThat(e.protocols()).containsExactly("http");
    assertThat(e.traffic().requests()).isEqualTo(100);
    assertThat(e.traffic().rps()).isCloseTo(10.0, within(1e-9));
    assertThat(e.traffic().errorRate()).isCloseTo(0.05, within(1e-9));
    // P50: rank 50 of 100 in bucket (1, 5] holding 90 -> 1 + 4 * 50/90.
    assertThat(e.traffic().quantile(0.5)).isCloseTo(1 + 4 * 50.0 / 90, within(1e-9));
    // P99: rank 99 in bucket (25, 50] holding ranks 91..100 -> 25 + 25 * 9/10.
    assertThat(e.traffic().quantile(0.99)).isCloseTo(25 + 25 * 9.0 / 10, within(1e-9));
  }

  @Test
  void theWindowSlidesAndCountsOverItsWholeSpan() throws Exception {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(30));
    Proxy p = new Proxy("source", "frontend", "forecast", "v1");
    w.record("frontend", 0, parse(p.add(1, "200", 1)));
    w.record("frontend", 10 * S, parse(p.add(100, "200", 1))); // 10 rps
    w.record("frontend", 20 * S, parse(p.add(300, "200", 1))); // 30 rps
    assertThat(edge(graph(w, 20 * S), "weather/forecast/v1").traffic().rps())
        .isCloseTo(400 / 20.0, within(1e-9));
    // At 45 s the first interval (0..10 s) has left the 30 s window; traffic stopped at 20 s.
    w.record("frontend", 45 * S, parse(p));
    assertThat(edge(graph(w, 45 * S), "weather/forecast/v1").traffic().rps())
        .isCloseTo(300 / 35.0, within(1e-9));
    // Much later every interval is gone: no edge.
    assertThat(graph(w, 200 * S).edges()).isEmpty();
  }

  @Test
  void aNewSeriesCountsFromZeroAndACounterResetFromItsNewValue() throws Exception {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(60));
    w.record("frontend", 0, parse(new Proxy("source", "frontend", "forecast", "v1")));
    Proxy after = new Proxy("source", "frontend", "forecast", "v1").add(20, "200", 2);
    w.record("frontend", 10 * S, parse(after));
    assertThat(edge(graph(w, 10 * S), "weather/forecast/v1").traffic().requests()).isEqualTo(20);
    // The proxy restarted: its counter is back at 5.
    w.record(
        "frontend",
        20 * S,
        parse(new Proxy("source", "frontend", "forecast", "v1").add(5, "200", 2)));
    assertThat(edge(graph(w, 20 * S), "weather/forecast/v1").traffic().requests()).isEqualTo(25);
  }

  @Test
  void theDestinationsReportWinsAndIsNeverAddedToTheSources() throws Exception {
    MetricsWindow w = new MetricsWindow(Duration.ofSeconds(30));
    Proxy client = new Proxy("source", "frontend", "forecast", "v2");
    Proxy server = new Proxy("destination", "frontend", "forecast", "v2");
    Proxy toAds = new Proxy("source", "frontend", "advertisement", "v1"); // no sidecar there
    w.record("frontend", 0, concat(parse(client), parse(toAds)));
    w.record("forecast-v2", 0, parse(server));
    client.add(40, "200", 7);
    server.add(40, "200", 6);
    toAds.add(20, "200", 1);
    w.record("frontend", 10 * S, concat(parse(client), parse(toAds)));
    w.record("forecast-v2", 10 * S, parse(server));
    TrafficGraph g = graph(w, 10 * S);
    assertThat(g.edges()).hasSize(2);
    Edge forecast = edge(g, "weather/forecast/v2");
    assertThat(forecast.reporter()).isEqualTo("destination");
    assertThat(forecast.traffic().requests()).isEqualTo(40);
    assertThat(forecast.traffic().rps()).isCloseTo(4.0, within(1e-9));
    Edge ads = edge(g, "weather/advertisement/v1");
    assertThat(ads.reporter()).isEqualTo("source");
    assertThat(ads.traffic().rps()).isCloseTo(2.0, within(1e-9));
    assertThat(g.workloads().get(new NodeRef("weather", "forecast", "v2")))
        .containsExactly("forecast-v2");
  }

  @Test
  void quantilesInTheInfBucketAnswerTheLargestBoundAndNoTrafficIsNaN() {
    TreeMap<Double, Double> b = new TreeMap<>();
    b.put(10.0, 0.0);
    b.put(100.0, 1.0);
    b.put(Double.POSITIVE_INFINITY, 10.0);
    assertThat(new Traffic(1, 0, 10, b).quantile(0.99)).isEqualTo(100.0);
    assertThat(new Traffic(1, 0, 10, b).quantile(0.05)).isCloseTo(10 + 90 * 0.5, within(1e-9));
    assertThat(Traffic.NONE.quantile(0.5)).isNaN();
    assertThat(Traffic.NONE.errorRate()).isZero();
  }

  @Test
  void failedMeansFiveHundredsNoResponseOrAGrpcError() {
    assertThat(TrafficGraph.failed(Map.of("response_code", "503"))).isTrue();
    assertThat(TrafficGraph.failed(Map.of("response_code", "0"))).isTrue();
    assertThat(TrafficGraph.failed(Map.of("response_code", "200", "grpc_response_status", "14")))
        .isTrue();
    assertThat(TrafficGraph.failed(Map.of("response_code", "200", "grpc_response_status", "0")))
        .isFalse();
    assertThat(TrafficGraph.failed(Map.of("response_code", "404"))).isFalse();
  }

  static List<PrometheusText.Sample> concat(
      List<PrometheusText.Sample> a, List<PrometheusText.Sample> b) {
    List<PrometheusText.Sample> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
