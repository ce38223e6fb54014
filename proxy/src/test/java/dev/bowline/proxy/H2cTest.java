package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 with prior knowledge (h2c) downstream, many streams on one connection, to HTTP/1.1
 * upstream.
 */
class H2cTest {
  static final String IP = "127.0.6.30";
  static Backend backend;
  static SocketProxy proxy;
  static int port;
  static H2Client client;
  static int rbacPort;

  @BeforeAll
  static void start() {
    backend = new Backend("a", "127.0.6.31");
    port = Ports.free(IP);
    rbacPort = Ports.free(IP);
    // a filter made per stream (RBAC, bound to its stream) before the shared router: the streams of
    // one connection share the router's instance, never another stream's RBAC
    String rbac =
        SocketProxy.listener("rbac", IP, rbacPort, "codec_type: AUTO", SocketProxy.to("/", "a"))
            .replace(
                "          http_filters:\n",
                """
                                  http_filters:
                                  - name: envoy.filters.http.rbac
                                    typed_config:
                                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                                      rules:
                                        action: ALLOW
                                        policies:
                                          allowed:
                                            permissions: [{any: true}]
                                            principals: [{header: {name: x-user, string_match: {exact: alice}}}]
                        """);
    proxy =
        SocketProxy.start(
            IP,
            List.of(
                SocketProxy.listener("in", IP, port, "codec_type: AUTO", SocketProxy.to("/", "a")),
                rbac),
            List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
    client = new H2Client();
  }

  @AfterAll
  static void stop() {
    client.close();
    proxy.close();
    backend.close();
  }

  @Test
  void manyStreamsOnOneH2cConnection() throws Exception {
    Channel conn = client.connect(IP, port);
    List<CompletableFuture<String>> replies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      CompletableFuture<String> reply = new CompletableFuture<>();
      replies.add(reply);
      Http2StreamChannel stream = H2Client.exchange(conn, reply);
      var req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/h2-" + i);
      req.headers().set("host", "anything.test");
      stream.writeAndFlush(req);
    }
    for (int i = 0; i < 20; i++) {
      assertThat(replies.get(i).get(5, TimeUnit.SECONDS))
          .startsWith("200 backend=a path=/h2-" + i + " host=anything.test");
    }
    conn.close();
  }

  @Test
  void eachStreamOfAConnectionHasItsOwnPerStreamFiltersAndSharesTheRouter() throws Exception {
    Channel conn = client.connect(IP, rbacPort);
    List<CompletableFuture<String>> replies = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      CompletableFuture<String> reply = new CompletableFuture<>();
      replies.add(reply);
      Http2StreamChannel stream = H2Client.exchange(conn, reply);
      var req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/rbac-" + i);
      req.headers().set("host", "anything.test").set("x-user", i % 2 == 0 ? "alice" : "bob");
      stream.writeAndFlush(req);
    }
    for (int i = 0; i < 20; i++) {
      String reply = replies.get(i).get(5, TimeUnit.SECONDS);
      if (i % 2 == 0) {
        assertThat(reply).startsWith("200 backend=a path=/rbac-" + i + " host=anything.test");
      } else {
        assertThat(reply).isEqualTo("403 RBAC: access denied");
      }
    }
    conn.close();
  }
}
