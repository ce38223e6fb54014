package dev.bowline.proxy;

import static dev.bowline.proxy.ClientAddressProxyTest.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code add_user_agent}, as Envoy: every request gets {@code
 * x-envoy-downstream-service-cluster} (the bootstrap node's cluster) and {@code
 * x-envoy-downstream-service-node} (its id), and the cluster as {@code user-agent} when it has
 * none; a client's own values of the two headers are replaced. Without the field nothing is added.
 * An HTTP/1 backend on 127.0.7.199 echoes the head it got.
 */
class AddUserAgentProxyTest {
  static final String IP = "127.0.7.198";
  static ScriptedBackend backend;
  static SocketProxy proxy;
  static final Map<String, Integer> PORTS = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    backend = ScriptedBackend.echo("127.0.7.199");
    var b =
        SocketProxy.on(IP)
            .bootstrap(
                "node: {id: sidecar~10.1.2.3~ratings-v1.default, cluster: ratings.default}\n");
    for (String name : new String[] {"ua", "plain"}) {
      int port = Ports.free(IP);
      PORTS.put(name, port);
      b.listener(
          SocketProxy.listener(
              name,
              IP,
              port,
              name.equals("ua") ? "add_user_agent: true" : "",
              SocketProxy.to("/", "b")));
    }
    proxy = b.cluster("b", "127.0.7.199", backend.port()).start();
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  static String get(String name, String... headers) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(IP, PORTS.get(name)), 30_000);
      s.setSoTimeout(60_000);
      StringBuilder req = new StringBuilder("GET /u HTTP/1.1\r\nHost: t\r\n");
      for (int i = 0; i < headers.length; i += 2) {
        req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void addUserAgentNamesTheNodesClusterAndId() throws Exception {
    String r = get("ua", "x-envoy-downstream-service-cluster", "spoofed");
    assertThat(r).startsWith("HTTP/1.1 200");
    assertThat(upstream(r, "x-envoy-downstream-service-cluster")).isEqualTo("ratings.default");
    assertThat(upstream(r, "x-envoy-downstream-service-node"))
        .isEqualTo("sidecar~10.1.2.3~ratings-v1.default");
    assertThat(upstream(r, "user-agent")).isEqualTo("ratings.default");
    // a client's own user-agent stays
    assertThat(upstream(get("ua", "user-agent", "curl/8"), "user-agent")).isEqualTo("curl/8");
  }

  @Test
  void withoutItNothingIsAdded() throws Exception {
    String r = get("plain");
    assertThat(r).startsWith("HTTP/1.1 200");
    assertThat(upstream(r, "x-envoy-downstream-service-cluster")).isNull();
    assertThat(upstream(r, "x-envoy-downstream-service-node")).isNull();
    assertThat(upstream(r, "user-agent")).isNull();
  }
}
