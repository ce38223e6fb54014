package dev.bowline.proxy.xds;

import static dev.bowline.proxy.xds.ParsersTest.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.ClusterPolicy;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.HashPolicy;
import dev.bowline.proxy.config.RouteAction;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Cluster policies, locality endpoints and hash policies: Envoy JSON in, records or errors out. */
class UpstreamPolicyParserTest {
  static ClusterConfig cluster(String extra) throws Exception {
    String j =
        "{\"name\":\"c\",\"type\":\"EDS\",\"eds_cluster_config\":{\"eds_config\":{\"ads\":{}}},"
            + extra
            + "}";
    return new ClusterParser()
        .unpackAndParse(Any.pack(json(j, Cluster.newBuilder()).build()))
        .value();
  }

  static void rejected(String extra, String message) throws Exception {
    String j =
        "{\"name\":\"c\",\"type\":\"EDS\",\"eds_cluster_config\":{\"eds_config\":{\"ads\":{}}},"
            + extra
            + "}";
    Any any = Any.pack(json(j, Cluster.newBuilder()).build());
    assertThatThrownBy(() -> new ClusterParser().unpackAndParse(any)).hasMessage(message);
  }

  @Test
  void istioShapedClusterBecomesItsPolicy() throws Exception {
    ClusterConfig c =
        cluster(
            """
            "lb_policy": "RING_HASH",
            "ring_hash_lb_config": {"minimum_ring_size": "4096"},
            "common_lb_config": {"healthy_panic_threshold": {"value": 30}, "locality_weighted_lb_config": {}},
            "circuit_breakers": {"thresholds": [
              {"priority": "HIGH", "max_connections": 7},
              {"max_connections": 1, "max_pending_requests": 2, "max_requests": 4294967295, "max_retries": 3, "track_remaining": true}]},
            "outlier_detection": {"consecutive_5xx": 7, "interval": "5s", "base_ejection_time": "15s",
              "max_ejection_percent": 50, "enforcing_consecutive_gateway_failure": 0,
              "split_external_local_origin_errors": true, "consecutive_local_origin_failure": 2},
            "upstream_connection_options": {"tcp_keepalive": {"keepalive_time": 300, "keepalive_interval": 75, "keepalive_probes": 9}},
            "common_http_protocol_options": {"idle_timeout": "90s"}
            """);
    assertThat(c.lbPolicy()).isEqualTo(ClusterConfig.LbPolicy.RING_HASH);
    ClusterPolicy p = c.policy();
    assertThat(p.lb()).isEqualTo(new ClusterPolicy.RingHash(4096, 8 * 1024 * 1024));
    assertThat(p.panicThresholdPercent()).isEqualTo(30);
    assertThat(p.localityWeighted()).isTrue();
    assertThat(p.limits()).isEqualTo(new ClusterPolicy.Limits(1, 2, 4294967295L, 3));
    assertThat(p.outlier())
        .contains(
            new ClusterPolicy.Outlier(
                7,
                100,
                5,
                0,
                2,
                100,
                true,
                Duration.ofSeconds(5),
                Duration.ofSeconds(15),
                Duration.ofSeconds(300),
                50));
    assertThat(p.tcpKeepalive()).contains(new ClusterPolicy.TcpKeepalive(9, 300, 75));
    assertThat(p.idleTimeout()).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void defaultsAreEnvoys() throws Exception {
    ClusterConfig c = cluster("\"lb_policy\": \"LEAST_REQUEST\"");
    assertThat(c.policy().lb()).isEqualTo(new ClusterPolicy.LeastRequest(2, 1.0));
    assertThat(c.policy().limits()).isEqualTo(ClusterPolicy.Limits.DEFAULT);
    assertThat(c.policy().panicThresholdPercent()).isEqualTo(50);
    assertThat(c.policy().outlier()).isEmpty();
    assertThat(cluster("\"lb_policy\": \"MAGLEV\"").policy().lb())
        .isEqualTo(new ClusterPolicy.Maglev(65537));
    var slow =
        cluster(
            "\"round_robin_lb_config\": {\"slow_start_config\": {\"slow_start_window\": \"20s\"}}");
    assertThat(slow.policy().slowStart())
        .contains(new ClusterPolicy.SlowStart(Duration.ofSeconds(20), 1.0, 10.0));
  }

  @Test
  void useClientProtocolIsAccepted() throws Exception {
    ClusterConfig c =
        cluster(
            """
            "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
              "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
              "use_downstream_protocol_config": {"http_protocol_options": {}, "http2_protocol_options": {}}}}
            """);
    assertThat(c.policy().downstreamProtocol()).isTrue();
    assertThat(c.http2()).isFalse();
    assertThat(cluster("\"lb_policy\": \"RANDOM\"").policy().downstreamProtocol()).isFalse();
  }

  @Test
  void badPoliciesNameTheField() throws Exception {
    rejected(
        "\"lb_policy\": \"MAGLEV\", \"maglev_lb_config\": {\"table_size\": \"65536\"}",
        "Cluster c: maglev_lb_config.table_size: must be a prime number up to 5000011, not 65536");
    rejected(
        "\"lb_policy\": \"RING_HASH\", \"ring_hash_lb_config\": {\"minimum_ring_size\": \"4096\", \"maximum_ring_size\": \"1024\"}",
        "Cluster c: ring_hash_lb_config.minimum_ring_size: must not exceed maximum_ring_size (1024)");
    rejected(
        "\"lb_policy\": \"RING_HASH\", \"ring_hash_lb_config\": {\"hash_function\": \"MURMUR_HASH_2\"}",
        "Cluster c: ring_hash_lb_config.hash_function: MURMUR_HASH_2 is not supported");
    rejected(
        "\"outlier_detection\": {\"max_ejection_percent\": 101}",
        "Cluster c: outlier_detection.max_ejection_percent: must be at most 100");
    rejected(
        "\"health_checks\": [{\"timeout\": \"1s\", \"interval\": \"1s\", \"unhealthy_threshold\": 2, \"healthy_threshold\": 1, \"custom_health_check\": {\"name\": \"x\"}}]",
        "Cluster c: health_checks[0]: CUSTOM_HEALTH_CHECK is not supported (http, tcp or grpc only)");
    rejected(
        "\"least_request_lb_config\": {\"choice_count\": 1}, \"lb_policy\": \"LEAST_REQUEST\"",
        "Cluster c: least_request_lb_config.choice_count: must be at least 2");
  }

  @Test
  void healthCheckProbesAndConnectionsTakeEnvoysFieldsAndBadOnesNameTheField() throws Exception {
    String head =
        "\"health_checks\": [{\"timeout\": \"1s\", \"interval\": \"2s\", "
            + "\"unhealthy_threshold\": 2, \"healthy_threshold\": 1, ";
    var http =
        cluster(
                head
                    + "\"reuse_connection\": false, \"transport_socket_match_criteria\": {\"a\": \"b\"}, "
                    + "\"tls_options\": {\"alpn_protocols\": [\"h2\"]}, "
                    + "\"http_health_check\": {\"path\": \"/h\", \"method\": \"HEAD\", "
                    + "\"codec_client_type\": \"HTTP2\", \"receive\": [{\"text\": \"4F4b\"}], "
                    + "\"response_buffer_size\": 64, "
                    + "\"request_headers_to_add\": [{\"header\": {\"key\": \"X-A\", \"value\": \"1\"}}], "
                    + "\"request_headers_to_remove\": [\"user-agent\"]}}]")
            .policy()
            .healthCheck()
            .orElseThrow();
    assertThat(http.connection())
        .isEqualTo(
            new ClusterPolicy.Connection(
                false, Optional.of(java.util.Map.of("a", "b")), java.util.List.of("h2")));
    var probe = (ClusterPolicy.HttpProbe) http.probe();
    assertThat(probe.method()).isEqualTo("HEAD");
    assertThat(probe.http2()).isTrue();
    assertThat(probe.receiveHex()).containsExactly("4f4b");
    assertThat(probe.responseBufferSize()).isEqualTo(64);
    assertThat(probe.headers().add()).hasSize(1);
    assertThat(probe.headers().remove()).containsExactly("user-agent");
    var defaults =
        cluster(head + "\"http_health_check\": {\"path\": \"/h\"}}]")
            .policy()
            .healthCheck()
            .orElseThrow();
    assertThat(defaults.connection()).isEqualTo(ClusterPolicy.Connection.DEFAULT);
    assertThat(((ClusterPolicy.HttpProbe) defaults.probe()).method()).isEqualTo("GET");

    var tcp =
        cluster(
                head
                    + "\"tcp_health_check\": {\"send\": {\"text\": \"01ff\"}, "
                    + "\"receive\": [{\"binary\": \"AQ==\"}]}}]")
            .policy()
            .healthCheck()
            .orElseThrow();
    assertThat(tcp.probe()).isEqualTo(new ClusterPolicy.TcpProbe("01ff", java.util.List.of("01")));
    var grpc =
        cluster(head + "\"grpc_health_check\": {\"service_name\": \"s\"}}]")
            .policy()
            .healthCheck()
            .orElseThrow();
    assertThat(grpc.probe()).isEqualTo(new ClusterPolicy.GrpcProbe("s", "c")); // the cluster's name

    rejected(
        head + "\"tcp_health_check\": {\"send\": {\"text\": \"zz\"}}}]",
        "Cluster c: health_checks[0].tcp_health_check.send.text: is not hex: "
            + "not a hexadecimal digit: \"z\" = 122");
    rejected(
        head + "\"http_health_check\": {\"path\": \"/h\", \"method\": \"CONNECT\"}}]",
        "Cluster c: health_checks[0].http_health_check.method: must not be CONNECT (Envoy's not_in"
            + " CONNECT)");
    rejected(
        head + "\"http_health_check\": {\"path\": \"/h\", \"codec_client_type\": \"HTTP3\"}}]",
        "Cluster c: health_checks[0].http_health_check.codec_client_type: HTTP3 is not supported");
    rejected(
        head
            + "\"http_health_check\": {\"path\": \"/h\", \"request_headers_to_remove\": [\"Host\"]}}]",
        "Cluster c: health_checks[0].http_health_check.request_headers_to_remove[0]: cannot remove"
            + " 'host'");
    rejected(
        head
            + "\"grpc_health_check\": {\"initial_metadata\": [{\"header\": {\"key\": \"a\", \"value\": \"b\"}}]}}]",
        "Cluster c: health_checks[0].grpc_health_check.initial_metadata: is not supported");
    rejected(
        head + "\"alt_port\": 8080, \"http_health_check\": {\"path\": \"/h\"}}]",
        "Cluster c: health_checks[0].alt_port: is not supported");
  }

  @Test
  void healthCheckIntervalsJittersAndRemovalTakeEnvoysFieldsAndDefaults() throws Exception {
    String base =
        "\"timeout\": \"1s\", \"interval\": \"2s\", \"unhealthy_threshold\": 2, "
            + "\"healthy_threshold\": 1, \"http_health_check\": {\"path\": \"/h\"";
    var defaults =
        cluster("\"health_checks\": [{" + base + "}}]").policy().healthCheck().orElseThrow();
    assertThat(defaults.noTrafficInterval()).isEqualTo(Duration.ofSeconds(60));
    assertThat(defaults.noTrafficHealthyInterval()).isZero();
    assertThat(defaults.unhealthyInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(defaults.unhealthyEdgeInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(defaults.healthyEdgeInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(defaults.warmHosts()).isFalse();
    assertThat(defaults.ignoreHealthOnHostRemoval()).isFalse();

    var set =
        cluster(
                "\"ignore_health_on_host_removal\": true, "
                    + "\"common_lb_config\": {\"ignore_new_hosts_until_first_hc\": true}, "
                    + "\"health_checks\": [{"
                    + base
                    + ", \"retriable_statuses\": [{\"start\": 500, \"end\": 502}]}, "
                    + "\"no_traffic_interval\": \"5s\", \"no_traffic_healthy_interval\": \"7s\", "
                    + "\"unhealthy_interval\": \"3s\", \"healthy_edge_interval\": \"1s\", "
                    + "\"initial_jitter\": \"0.5s\", \"interval_jitter\": \"0.25s\", "
                    + "\"interval_jitter_percent\": 10}]")
            .policy()
            .healthCheck()
            .orElseThrow();
    assertThat(set.noTrafficInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(set.noTrafficHealthyInterval()).isEqualTo(Duration.ofSeconds(7));
    assertThat(set.unhealthyInterval()).isEqualTo(Duration.ofSeconds(3));
    assertThat(set.unhealthyEdgeInterval()).isEqualTo(Duration.ofSeconds(3)); // the unhealthy one
    assertThat(set.healthyEdgeInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(set.initialJitter()).isEqualTo(Duration.ofMillis(500));
    assertThat(set.intervalJitter()).isEqualTo(Duration.ofMillis(250));
    assertThat(set.intervalJitterPercent()).isEqualTo(10);
    assertThat(set.warmHosts()).isTrue();
    assertThat(set.ignoreHealthOnHostRemoval()).isTrue();
    assertThat(((ClusterPolicy.HttpProbe) set.probe()).retriable())
        .containsExactly(new ClusterPolicy.StatusRange(500, 502));

    rejected(
        "\"health_checks\": [{" + base + "}, \"no_traffic_interval\": \"0s\"}]",
        "Cluster c: health_checks[0].no_traffic_interval: must be positive");
    rejected(
        "\"health_checks\": [{" + base + "}, \"interval_jitter_percent\": 101}]",
        "Cluster c: health_checks[0].interval_jitter_percent: must be at most 100");
    rejected(
        "\"health_checks\": [{"
            + base
            + ", \"expected_statuses\": [{\"start\": 200, \"end\": 700}]}}]",
        "Cluster c: health_checks[0].http_health_check.expected_statuses: "
            + "must be a range [start, end) within [100, 600)");
  }

  @Test
  void endpointsKeepTheirLocalityAndPriority() throws Exception {
    String j =
        """
        {"cluster_name": "c", "policy": {"overprovisioning_factor": 120}, "endpoints": [
          {"locality": {"region": "r", "zone": "z1"}, "load_balancing_weight": 3,
           "lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}}}]},
          {"locality": {"region": "r", "zone": "z2", "sub_zone": "s"}, "priority": 1,
           "lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "10.0.0.2", "port_value": 80}}}}]}]}
        """;
    Endpoints e =
        new EndpointParser()
            .unpackAndParse(Any.pack(json(j, ClusterLoadAssignment.newBuilder()).build()))
            .value();
    assertThat(e.overprovisioningFactor()).isEqualTo(120);
    assertThat(e.endpoints().get(0).priority()).isZero();
    assertThat(e.endpoints().get(0).locality()).isEqualTo("r/z1/");
    assertThat(e.endpoints().get(0).localityWeight()).isEqualTo(3);
    assertThat(e.endpoints().get(1).priority()).isEqualTo(1);
    assertThat(e.endpoints().get(1).locality()).isEqualTo("r/z2/s");
  }

  @Test
  void hashPoliciesOfARoute() throws Exception {
    String j =
        """
        {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [
          {"match": {"prefix": "/"}, "route": {"cluster": "c", "hash_policy": [
            {"header": {"header_name": "X-User"}, "terminal": true},
            {"cookie": {"name": "lb", "ttl": "10s", "path": "/a"}},
            {"connection_properties": {"source_ip": true}},
            {"query_parameter": {"name": "u"}}]}}]}]}
        """;
    var table =
        new RouteConfigParser()
            .unpackAndParse(Any.pack(json(j, RouteConfiguration.newBuilder()).build()))
            .value();
    var f = (RouteAction.Forward) table.virtualHosts().getFirst().routes().getFirst().action();
    assertThat(f.hashPolicies())
        .containsExactly(
            new HashPolicy.Header("x-user", true),
            new HashPolicy.Cookie(
                "lb", Optional.of(Duration.ofSeconds(10)), Optional.of("/a"), false),
            new HashPolicy.SourceIp(false),
            new HashPolicy.QueryParameter("u", false));
    String bad =
        j.replace(
            "{\"query_parameter\": {\"name\": \"u\"}}", "{\"filter_state\": {\"key\": \"k\"}}");
    Any any = Any.pack(json(bad, RouteConfiguration.newBuilder()).build());
    assertThatThrownBy(() -> new RouteConfigParser().unpackAndParse(any))
        .hasMessage(
            "RouteConfiguration r: virtual_hosts[0].routes[0].route.hash_policy[3].filter_state: not supported");
  }

  @Test
  void rateBasedOutlierDetectorsTakeEnvoysFieldsAndDefaults() throws Exception {
    ClusterConfig c =
        cluster(
            """
            "outlier_detection": {"success_rate_minimum_hosts": 3, "success_rate_request_volume": 20,
              "success_rate_stdev_factor": 1000, "enforcing_failure_percentage": 100,
              "failure_percentage_threshold": 40}
            """);
    var rates = c.policy().outlier().orElseThrow().rates();
    assertThat(rates).isEqualTo(new ClusterPolicy.Rates(3, 20, 1000, 100, 40, 5, 50, 100));
    assertThat(rates.minimumHosts()).isEqualTo(3);
    assertThat(cluster("\"outlier_detection\": {}").policy().outlier().orElseThrow().rates())
        .isEqualTo(ClusterPolicy.Rates.DEFAULT);
    rejected(
        "\"outlier_detection\": {\"failure_percentage_threshold\": 101}",
        "Cluster c: outlier_detection.failure_percentage_threshold: must be at most 100");
  }
}
