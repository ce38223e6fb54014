package dev.bowline.proxy;

import static dev.bowline.proxy.SocketProxy.to;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin endpoints that show what the proxy holds, as Envoy's: {@code /stats?usedonly} and
 * {@code /stats/prometheus?usedonly&filter=} (only stats ever written), {@code /certs} (the TLS
 * certificates of its contexts, {@code envoy.admin.v3.Certificates}), {@code /runtime} (the runtime
 * layers and their entries), {@code /memory} ({@code envoy.admin.v3.Memory} from the JVM's numbers)
 * and {@code /init_dump} ({@code envoy.admin.v3.UnreadyTargetsDumps}). Over a real admin socket.
 */
class AdminStatsAndStateProxyTest {
  static final String IP = "127.0.7.235";
  static final String BACKEND_IP = "127.0.7.236";

  static TestPki pki;
  static TestPki.Issued cert;
  static TestPki.Issued client;

  Backend backend;
  SocketProxy proxy;
  int port;
  final ObjectMapper mapper = new ObjectMapper();

  @BeforeAll
  static void certs() {
    pki = new TestPki("admin3 root");
    cert = pki.issue("proxy.admin3.test");
    client = pki.issue("spiffe://admin3.test/ns/a/sa/client");
  }

  @AfterAll
  static void none() {
    pki = null;
  }

  @BeforeEach
  void start() {
    backend = new Backend("a", BACKEND_IP);
    port = Ports.free(IP);
    int tlsPort = Ports.free(IP);
    String root = pki.rootPem().strip().replace("\n", "\\n") + "\\n";
    String downstream =
        """
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  common_tls_context:
                    tls_certificates:
                    - certificate_chain: {inline_string: "%s"}
                      private_key: {inline_string: "%s"}
                    validation_context: {trusted_ca: {inline_string: "%s"}}
              filters:
        """
            .formatted(
                cert.certPem().replace("\n", "\\n"), cert.keyPem().replace("\n", "\\n"), root);
    String tlsListener = SocketProxy.listener("tls", IP, tlsPort, "", to("/", "b"));
    assertThat(tlsListener).contains("    - filters:\n");
    tlsListener = tlsListener.replace("    - filters:\n", downstream);
    proxy =
        SocketProxy.on(IP)
            .listener(SocketProxy.listener("in", IP, port, "", to("/", "b")))
            .listener(tlsListener)
            .cluster("b", backend.ip(), backend.port())
            .cluster(
                "up",
                backend.ip(),
                backend.port(),
                """
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                    common_tls_context:
                      validation_context: {trusted_ca: {inline_string: "%s"}}
                      tls_certificate_sds_secret_configs: [{name: client}]"""
                    .formatted(root))
            // a static secret (static_resources.secrets, after the clusters)
            .clusterYaml(
                """
                  secrets:
                  - name: client
                    tls_certificate:
                      certificate_chain: {inline_string: "%s"}
                      private_key: {inline_string: "%s"}
                """
                    .formatted(
                        client.certPem().replace("\n", "\\n"),
                        client.keyPem().replace("\n", "\\n")))
            .bootstrap(
                """
                layered_runtime:
                  layers:
                  - name: base
                    static_layer:
                      overload: {premature_reset_total_stream_count: 20}
                      a: {b: 1}
                  - name: top
                    static_layer: {a: {b: 2}, c: "x", d: true}
                  - name: admin
                    admin_layer: {}
                """)
            .admin()
            .start();
  }

  @AfterEach
  void stop() {
    proxy.close();
    backend.close();
  }

  HttpResponse<String> admin(String path) throws Exception {
    var a = proxy.proxy.adminAddress().orElseThrow();
    try (HttpClient c = HttpClient.newHttpClient()) {
      return c.send(
          HttpRequest.newBuilder(URI.create("http://" + IP + ":" + a.getPort() + path))
              .timeout(Duration.ofSeconds(30))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  @Test
  void usedOnlyShowsTheStatsEverWrittenInEveryFormat() throws Exception {
    assertThat(proxy.get(port, "/x").statusCode()).isEqualTo(200);
    String all = admin("/stats").body();
    assertThat(all)
        .contains("cluster.b.upstream_rq_total: 1\n")
        .contains("cluster.b.upstream_cx_connect_fail: 0\n")
        .contains("http.in.downstream_cx_length_ms: No recorded values\n");
    String used = admin("/stats?usedonly").body();
    assertThat(used)
        .contains("cluster.b.upstream_rq_total: 1\n")
        .contains("http.in.downstream_rq_total: 1\n")
        .doesNotContain("cluster.b.upstream_cx_connect_fail")
        .doesNotContain("http.tls.downstream_rq_total")
        .as("the server's gauges are set at every flush in Envoy: shown at 0")
        .contains("server.state: 0\n")
        .doesNotContain("No recorded values");
    // a counter /reset_counters zeroed stays used, as Envoy's used flag
    var reset =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://"
                                + IP
                                + ":"
                                + proxy.proxy.adminAddress().orElseThrow().getPort()
                                + "/reset_counters"))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(reset.statusCode()).isEqualTo(200);
    assertThat(admin("/stats?usedonly&filter=upstream_rq_total").body())
        .isEqualTo("cluster.b.upstream_rq_total: 0\n");

    JsonNode json = mapper.readTree(admin("/stats?usedonly&format=json&type=Counters").body());
    List<String> names = new ArrayList<>();
    json.get("stats").forEach(s -> names.add(s.get("name").asText()));
    assertThat(names)
        .contains("cluster.b.upstream_rq_total")
        .doesNotContain("cluster.b.upstream_cx_connect_fail");

    String prom = admin("/stats/prometheus?usedonly").body();
    assertThat(prom)
        .contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"b\"} 0\n")
        .doesNotContain("envoy_cluster_upstream_cx_connect_fail");
    String filtered = admin("/stats/prometheus?filter=%5Ecluster%5C.b%5C.upstream_cx_").body();
    assertThat(filtered)
        .contains(
            "# TYPE envoy_cluster_upstream_cx_connect_fail counter\n"
                + "envoy_cluster_upstream_cx_connect_fail{envoy_cluster_name=\"b\"} 0\n")
        .as("a family with no stat shown is left out, its TYPE line too")
        .doesNotContain("envoy_cluster_upstream_rq_total")
        .doesNotContain("envoy_http_");
    var bad = admin("/stats/prometheus?filter=(");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).isEqualTo("Invalid re2 regex");
    assertThat(admin("/help").body())
        .contains(
            "  /stats/prometheus: print server stats in prometheus format\n"
                + "      usedonly: Only include stats that have been written by system since"
                + " restart\n");
  }

  @Test
  void certsListEachTlsContextsCaAndChain() throws Exception {
    var r = admin("/certs");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode certs = mapper.readTree(r.body()).get("certificates");
    assertThat(certs.size()).as("the listener's context, then the cluster's").isEqualTo(2);
    JsonNode server = certs.get(0);
    JsonNode leaf = server.get("cert_chain").get(0);
    assertThat(leaf.get("path").asText()).isEqualTo("<inline>");
    assertThat(leaf.get("serial_number").asText()).isEqualTo(cert.serial());
    assertThat(leaf.get("subject_alt_names").get(0).get("dns").asText())
        .isEqualTo("proxy.admin3.test");
    assertThat(Instant.parse(leaf.get("expiration_time").asText()))
        .isEqualTo(cert.cert().getNotAfter().toInstant());
    assertThat(Instant.parse(leaf.get("valid_from").asText()))
        .isEqualTo(cert.cert().getNotBefore().toInstant());
    // two hours left: 0 days, which proto3 JSON leaves out
    assertThat(leaf.path("days_until_expiration").asText("0")).isEqualTo("0");
    JsonNode ca = server.get("ca_cert").get(0);
    assertThat(ca.get("serial_number").asText()).isEqualTo(pki.root.getSerialNumber().toString(16));
    JsonNode upstream = certs.get(1);
    // the cluster's certificate is the static secret's
    JsonNode mine = upstream.get("cert_chain").get(0);
    assertThat(mine.get("serial_number").asText()).isEqualTo(client.serial());
    assertThat(mine.get("subject_alt_names").get(0).get("uri").asText())
        .isEqualTo("spiffe://admin3.test/ns/a/sa/client");
    assertThat(upstream.get("ca_cert").get(0).get("serial_number").asText())
        .isEqualTo(pki.root.getSerialNumber().toString(16));
  }

  @Test
  void runtimeListsTheLayersAndEachKeysValues() throws Exception {
    var r = admin("/runtime");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode json = mapper.readTree(r.body());
    assertThat(json.get("layers").toString()).isEqualTo("[\"base\",\"top\",\"admin\"]");
    JsonNode e = json.get("entries");
    assertThat(e.get("a.b").get("final_value").asText()).isEqualTo("2");
    assertThat(e.get("a.b").get("layer_values").toString()).isEqualTo("[\"1\",\"2\",\"\"]");
    assertThat(e.get("overload.premature_reset_total_stream_count").get("final_value").asText())
        .isEqualTo("20");
    assertThat(e.get("c").get("layer_values").toString()).isEqualTo("[\"\",\"x\",\"\"]");
    assertThat(e.get("d").get("final_value").asText()).isEqualTo("true");
  }

  @Test
  void memoryAndInitDumpAsEnvoysMessages() throws Exception {
    JsonNode memory = mapper.readTree(admin("/memory").body());
    long allocated = Long.parseLong(memory.get("allocated").asText());
    long heap = Long.parseLong(memory.get("heap_size").asText());
    long physical = Long.parseLong(memory.get("total_physical_bytes").asText());
    // in use <= held by the allocators <= what the process holds
    assertThat(allocated).isPositive().isLessThanOrEqualTo(heap);
    assertThat(physical).isGreaterThanOrEqualTo(heap);

    // initialised (static config, no SDS, no health checks): nothing unready
    var init = admin("/init_dump");
    assertThat(init.statusCode()).isEqualTo(200);
    assertThat(mapper.readTree(init.body()).size()).isZero();
    assertThat(mapper.readTree(admin("/init_dump?mask=listener").body()).size()).isZero();
    assertThat(admin("/help").body())
        .contains("  /certs: print certs on machine\n")
        .contains("  /memory: print current allocation/heap usage\n")
        .contains("  /runtime: print runtime values\n")
        .contains("  /init_dump: dump current Envoy init manager information (experimental)\n");
  }
}
