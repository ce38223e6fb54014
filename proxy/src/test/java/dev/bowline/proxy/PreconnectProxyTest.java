package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster's {@code preconnect_policy.per_upstream_preconnect_ratio} on HTTP/1.1, as Envoy's pool
 * applies it ({@code shouldConnect}: requests in flight times the ratio against the connections
 * busy, idle or on their way): with a ratio of 2 one request keeps a second connection ready, and
 * sequential requests then reuse the two without opening more; without the policy a host gets one
 * connection. Netty backends count the connections they accept.
 */
class PreconnectProxyTest {
  static final String IP = "127.0.85.1";

  static NettyBackend eager;
  static NettyBackend lazy;
  static SocketProxy proxy;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    eager = new NettyBackend("eager", "127.0.85.2");
    lazy = new NettyBackend("lazy", "127.0.85.3");
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener(
                    "pre",
                    IP,
                    port,
                    "",
                    SocketProxy.to("/eager", "eager"),
                    SocketProxy.to("/", "lazy"))),
            List.of(
                SocketProxy.cluster(
                    "eager",
                    eager.ip(),
                    eager.port(),
                    "preconnect_policy: {per_upstream_preconnect_ratio: 2}"),
                SocketProxy.cluster("lazy", lazy.ip(), lazy.port(), "")));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    eager.close();
    lazy.close();
  }

  static void get(String path) throws Exception {
    assertThat(proxy.get(port, path).statusCode()).isEqualTo(200);
  }

  @Test
  void aRatioOfTwoKeepsASecondConnectionReady() throws Exception {
    get("/eager/1");
    await().atMost(Duration.ofSeconds(20)).until(() -> eager.connections.get() == 2);
    for (int i = 2; i <= 6; i++) {
      get("/eager/" + i);
    }
    assertThat(eager.connections.get()).isEqualTo(2); // one in use, one ready, none more
    assertThat(proxy.stat("cluster.eager.upstream_cx_total")).isEqualTo(2);
  }

  @Test
  void withoutThePolicyAHostConnectsOnDemand() throws Exception {
    for (int i = 1; i <= 3; i++) {
      get("/lazy/" + i);
    }
    assertThat(lazy.connections.get()).isEqualTo(1);
    assertThat(proxy.stat("cluster.lazy.upstream_cx_total")).isEqualTo(1);
  }
}
