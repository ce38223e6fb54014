package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /clusters} as Envoy's {@code ClustersHandler}: per host its stats ({@code cx_active},
 * {@code cx_connect_fail}, {@code cx_total}, {@code rq_active}, {@code rq_error}, {@code
 * rq_success}, {@code rq_timeout}, {@code rq_total}), hostname, health flags, weight, locality,
 * canary, priority and success rates, per cluster the circuit breakers; the same in {@code
 * ?format=json} as {@code envoy.admin.v3.Clusters} (what {@code istioctl proxy-config endpoint}
 * reads). Over a real admin socket, after real requests.
 */
class AdminClustersProxyTest {
  static final String IP = "127.0.7.232";
  static final String BACKEND_IP = "127.0.7.233";
  static final String DEAD_IP = "127.0.7.234";

  PolicyBackend backend;
  SocketProxy proxy;
  int port;
  int deadPort;

  @BeforeEach
  void start() {
    backend = new PolicyBackend("b", BACKEND_IP);
    deadPort = Ports.free(DEAD_IP); // nothing listens there: every connect fails
    proxy =
        SocketProxy.on(IP)
            .http(
                "in",
                "",
                "{match: {prefix: /slow}, route: {cluster: b, timeout: 0.3s}}",
                "{match: {prefix: /dead}, route: {cluster: dead}}",
                "{match: {prefix: /od}, route: {cluster: od}}",
                SocketProxy.to("/", "b"))
            .cluster("b", backend.ip(), backend.port())
            .cluster("dead", DEAD_IP, deadPort, "connect_timeout: 5s")
            .cluster(
                "od",
                backend.ip(),
                backend.port(),
                """
                outlier_detection:
                  interval: 0.5s
                  success_rate_minimum_hosts: 1
                  success_rate_request_volume: 1
                circuit_breakers:
                  thresholds: [{max_connections: 7, max_pending_requests: 8, max_requests: 9, max_retries: 2}]""")
            .admin()
            .start();
    port = proxy.port("in");
  }

  @AfterEach
  void stop() {
    proxy.close();
    backend.close();
  }

  @Test
  void eachHostWithItsStatsAsEnvoysText() throws Exception {
    assertThat(proxy.get(port, "/ok").statusCode()).isEqualTo(200);
    assertThat(proxy.get(port, "/ok").statusCode()).isEqualTo(200);
    assertThat(proxy.get(port, "/status/503").statusCode()).isEqualTo(503);
    assertThat(proxy.get(port, "/slow").statusCode()).isEqualTo(504);
    assertThat(proxy.get(port, "/dead").statusCode()).isEqualTo(503);

    String b = "b::" + BACKEND_IP + ":" + backend.port() + "::";
    String dead = "dead::" + DEAD_IP + ":" + deadPort + "::";
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(proxy.admin("/clusters"))
                    .contains(b + "rq_active::0\n" + b + "rq_error::2\n")
                    .contains(dead + "cx_connect_fail::1\n"));
    String text = proxy.admin("/clusters");
    // the stats sorted by name, then Envoy's fixed lines, as ClustersHandler prints them
    assertThat(text)
        .containsPattern(
            "\\Q"
                + b
                + "cx_active::\\E\\d+\n\\Q"
                + b
                + "cx_connect_fail::0\n"
                + b
                + "cx_total::\\E[1-9]\\d*\n\\Q"
                + b
                + "rq_active::0\n"
                + b
                + "rq_error::2\n"
                + b
                + "rq_success::2\n"
                + b
                + "rq_timeout::1\n"
                + b
                + "rq_total::4\n"
                + b
                + "hostname::\n"
                + b
                + "health_flags::healthy\n"
                + b
                + "weight::1\n"
                + b
                + "region::\n"
                + b
                + "zone::\n"
                + b
                + "sub_zone::\n"
                + b
                + "canary::false\n"
                + b
                + "priority::0\n"
                + b
                + "success_rate::-1\n"
                + b
                + "local_origin_success_rate::-1\n\\E");
    assertThat(text)
        .contains(
            dead + "cx_active::0\n" + dead + "cx_connect_fail::1\n" + dead + "cx_total::1\n",
            // the connect failed: no request went out, and the router charged its 503 to the host
            dead + "rq_error::1\n" + dead + "rq_success::0\n",
            dead + "rq_total::0\n")
        .contains(
            "b::observability_name::b\n"
                + "b::default_priority::max_connections::1024\n"
                + "b::default_priority::max_pending_requests::1024\n"
                + "b::default_priority::max_requests::1024\n"
                + "b::default_priority::max_retries::3\n"
                + "b::high_priority::max_connections::1024\n"
                + "b::high_priority::max_pending_requests::1024\n"
                + "b::high_priority::max_requests::1024\n"
                + "b::high_priority::max_retries::3\n"
                + "b::added_via_api::false\n")
        .contains(
            "od::default_priority::max_connections::7\n"
                + "od::default_priority::max_pending_requests::8\n"
                + "od::default_priority::max_requests::9\n"
                + "od::default_priority::max_retries::2\n");
  }

  @Test
  void eachHostWithItsStatsAsEnvoysJson() throws Exception {
    assertThat(proxy.get(port, "/ok").statusCode()).isEqualTo(200);
    assertThat(proxy.get(port, "/status/500").statusCode()).isEqualTo(500);
    assertThat(proxy.get(port, "/dead").statusCode()).isEqualTo(503);
    ObjectMapper mapper = new ObjectMapper();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stats(host(mapper.readTree(proxy.admin("/clusters?format=json")), "b"))
                    .getOrDefault("rq_error", "")
                    .equals("1"));
    JsonNode json = mapper.readTree(proxy.admin("/clusters?format=json"));
    JsonNode b = host(json, "b");
    Map<String, String> stats = stats(b);
    assertThat(stats)
        .containsEntry("cx_connect_fail", "0")
        .containsEntry("rq_error", "1")
        .containsEntry("rq_success", "1")
        .containsEntry("rq_timeout", "0")
        .containsEntry("rq_total", "2")
        .containsEntry("rq_active", "0")
        .containsKey("cx_total")
        .containsKey("cx_active");
    // proto3 JSON: COUNTER is the default type and left out; the gauges say GAUGE
    for (JsonNode s : b.get("stats")) {
      String name = s.get("name").asText();
      boolean gauge = name.equals("cx_active") || name.equals("rq_active");
      assertThat(s.path("type").asText()).as(name).isEqualTo(gauge ? "GAUGE" : "");
    }
    assertThat(b.get("health_status").get("eds_health_status").asText()).isEqualTo("HEALTHY");
    assertThat(b.get("weight").asInt()).isEqualTo(1);
    assertThat(stats(host(json, "dead"))).containsEntry("cx_connect_fail", "1");
    JsonNode od = cluster(json, "od");
    JsonNode thresholds = od.get("circuit_breakers").get("thresholds");
    assertThat(thresholds.get(0).get("max_connections").asInt()).isEqualTo(7);
    assertThat(thresholds.get(0).get("max_retries").asInt()).isEqualTo(2);
    assertThat(thresholds.get(1).get("priority").asText()).isEqualTo("HIGH");
    assertThat(host(json, "od").has("success_rate")).as("not computed yet").isFalse();

    // the success-rate detector's interval: each host with the request volume gets its rate
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              proxy.get(port, "/od");
              JsonNode h = host(mapper.readTree(proxy.admin("/clusters?format=json")), "od");
              return h.path("success_rate").path("value").asDouble(-1) == 100.0;
            });
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              proxy.get(port, "/od");
              return proxy
                  .admin("/clusters")
                  .contains("od::" + BACKEND_IP + ":" + backend.port() + "::success_rate::100\n");
            });
  }

  static JsonNode cluster(JsonNode json, String name) {
    for (JsonNode c : json.get("cluster_statuses")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new AssertionError("no cluster " + name + " in " + json);
  }

  static JsonNode host(JsonNode json, String cluster) {
    return cluster(json, cluster).get("host_statuses").get(0);
  }

  static Map<String, String> stats(JsonNode host) {
    Map<String, String> m = new HashMap<>();
    for (JsonNode s : host.path("stats")) {
      m.put(s.get("name").asText(), s.path("value").asText("0"));
    }
    return m;
  }
}
