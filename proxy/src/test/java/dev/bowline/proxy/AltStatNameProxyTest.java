package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster's {@code alt_stat_name} over real sockets: its stats are {@code cluster.<alt>.*} on the
 * admin's {@code /stats}, tagged {@code envoy_cluster_name="<alt>"} on {@code /stats/prometheus},
 * and {@code /clusters} gives it as the observability name; nothing is counted under its name.
 */
class AltStatNameProxyTest {
  static final String IP = "127.0.7.43";
  static final String BACKEND_IP = "127.0.7.42";
  static Backend backend;
  static SocketProxy proxy;

  @BeforeAll
  static void start() {
    backend = new Backend("b", BACKEND_IP);
    proxy =
        SocketProxy.on(IP)
            .admin()
            .http("h", "", SocketProxy.to("/", "reviews_v1"))
            .cluster("reviews_v1", BACKEND_IP, backend.port(), "alt_stat_name: reviews_alt")
            .start();
  }

  @AfterAll
  static void stop() {
    proxy.close();
    backend.close();
  }

  @Test
  void theClustersStatsAreUnderItsAltStatName() throws Exception {
    assertThat(proxy.get(proxy.port("h"), "/a").statusCode()).isEqualTo(200);
    assertThat(proxy.get(proxy.port("h"), "/b").statusCode()).isEqualTo(200);
    String stats = proxy.admin("/stats");
    assertThat(stats).contains("cluster.reviews_alt.upstream_rq_total: 2");
    assertThat(stats).contains("cluster.reviews_alt.upstream_rq_2xx: 2");
    assertThat(stats).contains("cluster.reviews_alt.membership_total: 1");
    assertThat(stats).doesNotContain("cluster.reviews_v1.");
    String prom = proxy.admin("/stats/prometheus");
    assertThat(prom)
        .contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"reviews_alt\"} 2");
    assertThat(prom).doesNotContain("envoy_cluster_name=\"reviews_v1\"");
    assertThat(proxy.admin("/clusters")).contains("reviews_v1::observability_name::reviews_alt");
  }
}
