package dev.bowline.proxy;

import static dev.bowline.proxy.SocketProxy.to;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admin server's command table as Envoy's ({@code AdminImpl}): {@code /help} and the 404 of an
 * unknown path print it sorted with {@code (POST)} marks and parameters, a mutating command read
 * with GET is Envoy's 405, {@code /} is a table of the commands; {@code /healthcheck/fail} and
 * {@code /healthcheck/ok} move the server state ({@code /ready}, {@code server.live}, {@code
 * server.state}); {@code /drain_listeners?inboundonly} drains the INBOUND listeners only; the JSON
 * forms of {@code /clusters} and {@code /listeners}. Over a real admin socket.
 */
class AdminEndpointsProxyTest {
  static final String IP = "127.0.7.184";
  static final String BACKEND_IP = "127.0.7.185";

  Backend backend;
  SocketProxy proxy;
  HttpClient client;

  @BeforeEach
  void start() {
    backend = new Backend("a", BACKEND_IP);
    int in = Ports.free(IP);
    int out = Ports.free(IP);
    proxy =
        SocketProxy.on(IP)
            .listener(
                SocketProxy.withFields(
                    SocketProxy.listener("in", IP, in, "", to("/", "b")),
                    "traffic_direction: INBOUND"))
            .listener(
                SocketProxy.withFields(
                    SocketProxy.listener("out", IP, out, "", to("/", "b")),
                    "traffic_direction: OUTBOUND"))
            .cluster("b", backend.ip(), backend.port())
            .admin()
            .start();
    inPort = in;
    outPort = out;
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  int inPort;
  int outPort;

  @AfterEach
  void stop() {
    client.close();
    proxy.close();
    backend.close();
  }

  HttpResponse<String> admin(String method, String path) throws Exception {
    var a = proxy.proxy.adminAddress().orElseThrow();
    return client.send(
        HttpRequest.newBuilder(URI.create("http://" + IP + ":" + a.getPort() + path))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void helpPrintsTheCommandTableSortedWithPostMarksAndParameters() throws Exception {
    var help = admin("GET", "/help");
    assertThat(help.statusCode()).isEqualTo(200);
    String body = help.body();
    assertThat(body)
        .startsWith(
            "admin commands are:\n  /: Admin home page\n  /certs: print certs on machine\n"
                + "  /clusters: upstream cluster status\n")
        .contains(
            "  /drain_listeners (POST): drain listeners\n"
                + "      graceful: When draining listeners, enter a graceful drain period prior to"
                + " closing listeners. This behaviour and duration is configurable via server"
                + " options or CLI\n")
        .contains("  /healthcheck/fail (POST): cause the server to fail health checks\n")
        .contains(
            "  /listeners: print listener info\n"
                + "      format: File format to use; One of (text, json)\n")
        .contains(
            "      level: desired logging level, this will change all loggers's level; One of (,"
                + " trace, debug, info, warning, error, critical, off)\n")
        .contains("  /quitquitquit (POST): exit the server\n")
        .contains("  /ready: print server state, return 200 if LIVE, otherwise return 503\n");
    List<String> paths =
        Arrays.stream(body.split("\n"))
            .filter(l -> l.startsWith("  /"))
            .map(l -> l.substring(2, l.indexOf(':')).replace(" (POST)", ""))
            .toList();
    assertThat(paths).isSorted().contains("/logging", "/reopen_logs", "/healthcheck/ok");

    var unknown = admin("GET", "/nope?x=1");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("invalid path. " + body);
    // exact paths only: a prefix of a command is not that command
    assertThat(admin("GET", "/stat").statusCode()).isEqualTo(404);
  }

  @Test
  void aMutatingCommandReadWithGetIsEnvoys405AndChangesNothing() throws Exception {
    for (String path :
        List.of("/quitquitquit", "/healthcheck/fail", "/logging?level=off", "/drain_listeners")) {
      var r = admin("GET", path);
      assertThat(r.statusCode()).as(path).isEqualTo(405);
      assertThat(r.body()).as(path).isEqualTo("Method GET not allowed, POST required.");
    }
    var put = admin("PUT", "/healthcheck/fail");
    assertThat(put.statusCode()).isEqualTo(405);
    assertThat(put.body()).isEqualTo("Method PUT not allowed, POST required.");
    assertThat(admin("GET", "/ready").body()).isEqualTo("LIVE\n");
    assertThat(proxy.get(inPort, "/x").statusCode()).isEqualTo(200);
  }

  @Test
  void theHomePageIsATableOfTheCommands() throws Exception {
    var home = admin("GET", "/");
    assertThat(home.statusCode()).isEqualTo(200);
    assertThat(home.headers().firstValue("content-type")).hasValue("text/html; charset=UTF-8");
    assertThat(home.body())
        .contains("<table class='home-table'>")
        .contains("<a href='/stats'>stats</a>")
        .contains("<td class='home-data'>print server stats</td>")
        .contains("<form action='/healthcheck/fail' method='post'>");
  }

  @Test
  void aFailedHealthCheckMakesTheServerDrainingUntilItIsOk() throws Exception {
    assertThat(admin("GET", "/ready").statusCode()).isEqualTo(200);
    var fail = admin("POST", "/healthcheck/fail");
    assertThat(fail.statusCode()).isEqualTo(200);
    assertThat(fail.body()).isEqualTo("OK\n");
    var ready = admin("GET", "/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).isEqualTo("DRAINING\n");
    assertThat(admin("GET", "/stats?filter=%5Eserver%5C.(live%7Cstate)%24").body())
        .isEqualTo("server.live: 0\nserver.state: 1\n");
    assertThat(admin("GET", "/server_info").body()).contains("\"state\":\"DRAINING\"");

    assertThat(admin("POST", "/healthcheck/ok").body()).isEqualTo("OK\n");
    ready = admin("GET", "/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("LIVE\n");
    assertThat(admin("GET", "/stats?filter=%5Eserver%5C.(live%7Cstate)%24").body())
        .isEqualTo("server.live: 1\nserver.state: 0\n");
  }

  @Test
  void drainingInboundOnlyStopsTheInboundListenersAndLeavesTheRest() throws Exception {
    assertThat(proxy.get(inPort, "/x").statusCode()).isEqualTo(200);
    var r = admin("POST", "/drain_listeners?inboundonly");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("OK\n");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              try (var _ = new java.net.Socket(IP, inPort)) {
                return false;
              } catch (ConnectException e) {
                return true;
              }
            });
    assertThat(proxy.get(outPort, "/x").statusCode()).isEqualTo(200);
    assertThat(admin("GET", "/ready").body()).isEqualTo("LIVE\n");
  }

  @Test
  void aGracefulDrainKeepsAcceptingThroughTheDrainTimeWithSkipExitForGood() throws Exception {
    // skip_exit: the listeners are never stopped, the connections are told to drain
    assertThat(admin("POST", "/drain_listeners?graceful&skip_exit").statusCode()).isEqualTo(200);
    try (var s = proxy.h1(outPort, "GET /x HTTP/1.1\r\nHost: t\r\n\r\n")) {
      assertThat(SocketProxy.response(s.getInputStream()).toLowerCase(java.util.Locale.ROOT))
          .startsWith("http/1.1 200")
          .contains("\r\nconnection: close\r\n");
    }
    assertThat(proxy.get(inPort, "/x").statusCode()).isEqualTo(200);
  }

  @Test
  void clustersAndListenersAsEnvoysAdminJson() throws Exception {
    var clusters = admin("GET", "/clusters?format=json");
    assertThat(clusters.statusCode()).isEqualTo(200);
    assertThat(clusters.headers().firstValue("content-type")).hasValue("application/json");
    var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(clusters.body());
    var b = json.get("cluster_statuses").get(0);
    assertThat(b.get("name").asText()).isEqualTo("b");
    assertThat(b.get("observability_name").asText()).isEqualTo("b");
    assertThat(b.has("added_via_api")).as("false is left out, as proto3 JSON does").isFalse();
    var host = b.get("host_statuses").get(0);
    assertThat(host.get("address").get("socket_address").get("address").asText())
        .isEqualTo(BACKEND_IP);
    assertThat(host.get("address").get("socket_address").get("port_value").asInt())
        .isEqualTo(backend.port());
    assertThat(host.get("health_status").get("eds_health_status").asText()).isEqualTo("HEALTHY");
    assertThat(host.get("weight").asInt()).isEqualTo(1);
    // the text form is unchanged
    assertThat(admin("GET", "/clusters").body()).contains("b::observability_name::b\n");

    var listeners =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(admin("GET", "/listeners?format=json").body());
    assertThat(listeners.get("listener_statuses").size()).isEqualTo(2);
    var in = listeners.get("listener_statuses").get(0);
    assertThat(in.get("name").asText()).isEqualTo("in");
    assertThat(in.get("local_address").get("socket_address").get("address").asText()).isEqualTo(IP);
    assertThat(in.get("local_address").get("socket_address").get("port_value").asInt())
        .isEqualTo(inPort);
  }

  @Test
  void statsAsJsonOfOneTypeAndCountersReset() throws Exception {
    assertThat(proxy.get(inPort, "/x").statusCode()).isEqualTo(200);
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    var all =
        admin(
            "GET",
            "/stats?format=json&filter=%5E(cluster%5C.b%5C.upstream_rq_total%7Cserver%5C.concurrency)%24");
    assertThat(all.statusCode()).isEqualTo(200);
    assertThat(all.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(mapper.readTree(all.body()))
        .isEqualTo(
            mapper.readTree(
                "{\"stats\":[{\"name\":\"cluster.b.upstream_rq_total\",\"value\":1},"
                    + "{\"name\":\"server.concurrency\",\"value\":1}]}"));
    assertThat(admin("GET", "/stats?type=Gauges&filter=%5Eserver%5C.").body())
        .contains("server.concurrency: 1\n")
        .doesNotContain("upstream_rq_total");
    assertThat(admin("GET", "/stats?type=Counters&filter=upstream_rq_total%24").body())
        .isEqualTo("cluster.b.upstream_rq_total: 1\n");
    var histograms = mapper.readTree(admin("GET", "/stats?format=json&type=Histograms").body());
    var h = histograms.get("stats").get(0).get("histograms");
    assertThat(h.get("supported_quantiles").toString())
        .isEqualTo("[0,25,50,75,90,95,99,99.5,99.9,100]");
    assertThat(h.get("computed_quantiles").get(0).get("values").get(0).has("cumulative")).isTrue();

    var badType = admin("GET", "/stats?type=Meters");
    assertThat(badType.statusCode()).isEqualTo(400);
    assertThat(badType.body()).isEqualTo("invalid &type= param");
    var badFormat = admin("GET", "/stats?format=xml");
    assertThat(badFormat.statusCode()).isEqualTo(400);
    assertThat(badFormat.body())
        .isEqualTo("usage: /stats?format=(html|active-html|json|prometheus|text)\n\n");

    assertThat(admin("GET", "/reset_counters").statusCode()).isEqualTo(405);
    var reset = admin("POST", "/reset_counters");
    assertThat(reset.statusCode()).isEqualTo(200);
    assertThat(reset.body()).isEqualTo("OK\n");
    assertThat(
            admin(
                    "GET",
                    "/stats?filter=%5E(cluster%5C.b%5C.upstream_rq_total%7Cserver%5C.concurrency)%24")
                .body())
        .isEqualTo("cluster.b.upstream_rq_total: 0\nserver.concurrency: 1\n");
  }

  @Test
  void configDumpOfOneResourceMaskedAndFilteredByName() throws Exception {
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    var clusters = mapper.readTree(admin("GET", "/config_dump?resource=static_clusters").body());
    assertThat(clusters.get("configs").size()).isEqualTo(1);
    var b = clusters.get("configs").get(0);
    assertThat(b.get("@type").asText())
        .isEqualTo("type.googleapis.com/envoy.admin.v3.ClustersConfigDump.StaticCluster");
    assertThat(b.get("cluster").get("name").asText()).isEqualTo("b");
    assertThat(b.has("last_updated")).isTrue();

    var out =
        mapper.readTree(
            admin(
                    "GET",
                    "/config_dump?resource=static_listeners&name_regex=ou.*&mask=listener.name")
                .body());
    assertThat(out.get("configs").size()).isEqualTo(1);
    var l = out.get("configs").get(0);
    assertThat(l.get("listener").get("name").asText()).isEqualTo("out");
    assertThat(l.get("listener").has("address")).as("masked out").isFalse();
    assertThat(l.has("last_updated")).as("masked out").isFalse();
    // the regex matches a whole name
    assertThat(
            mapper
                .readTree(
                    admin("GET", "/config_dump?resource=static_listeners&name_regex=ou").body())
                .has("configs"))
        .isFalse();

    var masked = mapper.readTree(admin("GET", "/config_dump?mask=static_clusters").body());
    assertThat(masked.get("configs").size()).isEqualTo(1);
    assertThat(masked.get("configs").get(0).get("@type").asText())
        .isEqualTo("type.googleapis.com/envoy.admin.v3.ClustersConfigDump");

    var missing = admin("GET", "/config_dump?resource=nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).isEqualTo("nope not found in config dump");
    var single = admin("GET", "/config_dump?resource=bootstrap");
    assertThat(single.statusCode()).isEqualTo(400);
    assertThat(single.body())
        .isEqualTo("bootstrap is not a repeated field. Use ?mask=bootstrap to get only this field");
    var badMask = admin("GET", "/config_dump?mask=nope");
    assertThat(badMask.statusCode()).isEqualTo(400);
    assertThat(badMask.body())
        .isEqualTo("FieldMask nope could not be successfully applied to any configs.");
  }
}
