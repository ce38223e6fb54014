package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code request_mirror_policies} of a virtual host and of a route table over real sockets: as in
 * Envoy, a route without policies of its own mirrors by its virtual host's, a virtual host without
 * any by the table's; a route's own policies replace both. Each shadow cluster is its own server,
 * which records the paths it was sent.
 */
class MirrorInheritanceProxyTest {
  static final String IP = "127.0.7.153";
  static final String[] BACKEND_IPS = {"127.0.7.154", "127.0.7.155", "127.0.7.156", "127.0.7.157"};
  static final String[] NAMES = {"main", "route_shadow", "vhost_shadow", "table_shadow"};
  static final ScriptedBackend[] backends = new ScriptedBackend[4];
  static final java.util.List<Queue<String>> seen = new java.util.ArrayList<>();

  static SocketProxy proxy;

  @BeforeAll
  static void start() throws IOException {
    var b =
        SocketProxy.on(IP)
            .httpRouteConfig(
                "l",
                "",
                """
                name: t
                request_mirror_policies: [{cluster: table_shadow}]
                virtual_hosts:
                - name: mirrored
                  domains: ["mirrored.example"]
                  request_mirror_policies: [{cluster: vhost_shadow}]
                  routes:
                  - match: {prefix: /own}
                    route: {cluster: main, request_mirror_policies: [{cluster: route_shadow}]}
                  - match: {prefix: /}
                    route: {cluster: main}
                - name: plain
                  domains: ["*"]
                  routes:
                  - match: {prefix: /}
                    route: {cluster: main}
                """);
    for (int i = 0; i < 4; i++) {
      Queue<String> q = new ConcurrentLinkedQueue<>();
      seen.add(q);
      backends[i] =
          new ScriptedBackend(
              BACKEND_IPS[i],
              (path, out) -> {
                q.add(path);
                ScriptedBackend.write(out, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                return true;
              });
      b.cluster(NAMES[i], BACKEND_IPS[i], backends[i].port());
    }
    proxy = b.start();
  }

  @AfterAll
  static void stop() throws IOException {
    proxy.close();
    for (ScriptedBackend s : backends) {
      s.close();
    }
  }

  static int getWithHost(String host, String path) throws Exception {
    try (var s = new java.net.Socket(IP, proxy.port("l"))) {
      s.setSoTimeout(30_000);
      s.getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                  .getBytes(StandardCharsets.ISO_8859_1));
      String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      return Integer.parseInt(all.split(" ")[1]);
    }
  }

  static void awaitSeen(int server, String path) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(seen.get(server)).contains(path));
  }

  @Test
  void aRouteWithoutPoliciesMirrorsByItsVirtualHosts() throws Exception {
    assertThat(getWithHost("mirrored.example", "/vh")).isEqualTo(200);
    awaitSeen(2, "/vh");
    // the last request's mirror has come by the time this one's has: the table's shadow got
    // neither (the virtual host's policies replace the table's)
    assertThat(getWithHost("mirrored.example", "/vh2")).isEqualTo(200);
    awaitSeen(2, "/vh2");
    assertThat(seen.get(3)).doesNotContain("/vh", "/vh2");
    assertThat(seen.get(1)).doesNotContain("/vh", "/vh2");
  }

  @Test
  void aVirtualHostWithoutPoliciesMirrorsByTheTables() throws Exception {
    assertThat(getWithHost("plain.example", "/tb")).isEqualTo(200);
    awaitSeen(3, "/tb");
    assertThat(seen.get(2)).doesNotContain("/tb");
  }

  @Test
  void aRoutesOwnPoliciesReplaceTheInheritedOnes() throws Exception {
    assertThat(getWithHost("mirrored.example", "/own")).isEqualTo(200);
    awaitSeen(1, "/own");
    assertThat(getWithHost("mirrored.example", "/own2")).isEqualTo(200);
    awaitSeen(1, "/own2");
    assertThat(seen.get(2)).doesNotContain("/own", "/own2");
    assertThat(seen.get(3)).doesNotContain("/own", "/own2");
    assertThat(seen.get(0)).contains("/own", "/own2");
  }
}
