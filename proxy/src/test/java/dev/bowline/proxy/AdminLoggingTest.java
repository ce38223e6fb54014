package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Envoy's {@code POST /logging} over a real admin socket: the listing of the component loggers,
 * {@code ?<name>=L}, {@code ?paths=}, {@code ?level=}, Envoy's 400 with its usage text, and a real
 * debug line of the proxy (XdsClient's {@code event=xds_ack}, logger {@code config}) that is logged
 * only once {@code config} is set to debug, and that the console handler then lets through.
 */
class AdminLoggingTest extends HandAdsFixture {
  static final String XDS_IP = "127.0.7.181";

  AdminLoggingTest() {
    super(XDS_IP, "127.0.7.182", "127.0.7.183", "admin-logging-test~1");
  }

  final List<LogRecord> acks = new CopyOnWriteArrayList<>();
  final Handler seen =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          if (r.getMessage() != null && r.getMessage().startsWith("event=xds_ack")) {
            acks.add(r);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  HttpClient client;

  @BeforeEach
  void watch() {
    client = HttpClient.newHttpClient();
    Logger.getLogger("").addHandler(seen);
  }

  @AfterEach
  void unwatch() throws Exception {
    post("/logging?level=info"); // the JVM's loggers are shared with the other tests
    Logger.getLogger("").removeHandler(seen);
    client.close();
  }

  HttpResponse<String> post(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://" + XDS_IP + ":" + adminPort + path))
            .POST(HttpRequest.BodyPublishers.noBody())
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aDebugLineIsLoggedOnlyOnceItsLoggerIsSetToDebug() throws Exception {
    assertThat(post("/logging?level=info").statusCode()).isEqualTo(200);
    xds.send(CDS, "1", XdsProxyTest.edsCluster("c0"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(CDS, "1"));
    assertThat(acks).as("no debug line at info").isEmpty();

    var r = post("/logging?config=debug");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("  config: debug\n").contains("  upstream: info\n");
    xds.send(CDS, "2", XdsProxyTest.edsCluster("c0"), XdsProxyTest.edsCluster("c1"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(CDS, "2"));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> acks.stream().anyMatch(a -> "2".equals(a.getParameters()[1])));
    LogRecord ack = acks.getFirst();
    assertThat(ack.getLoggerName()).isEqualTo("dev.bowline.proxy.xds.XdsClient");
    for (Handler h : Logger.getLogger("").getHandlers()) {
      if (h instanceof ConsoleHandler) {
        assertThat(h.isLoggable(ack)).as("the console handler prints it").isTrue();
      }
    }

    // back to info: no more
    assertThat(post("/logging?paths=config:info").body()).contains("  config: info\n");
    int before = acks.size();
    xds.send(CDS, "3", XdsProxyTest.edsCluster("c0"));
    await().atMost(Duration.ofSeconds(30)).until(() -> xds.acked(CDS, "3"));
    assertThat(acks).hasSize(before);
  }

  @Test
  void theListingAndEnvoysErrors() throws Exception {
    var list = post("/logging");
    assertThat(list.statusCode()).isEqualTo(200);
    assertThat(list.body())
        .startsWith("active loggers:\n  admin: info\n  config: info\n  conn_handler: info\n")
        .contains("  hc: info\n  health_checker: info\n  http: info\n  http2: info\n")
        .endsWith("  upstream: info\n\n");

    var all = post("/logging?level=warning");
    assertThat(all.statusCode()).isEqualTo(200);
    assertThat(all.body()).doesNotContain(": info\n").contains("  secret: warning\n");

    var paths = post("/logging?paths=http:debug,jwt:trace");
    assertThat(paths.statusCode()).isEqualTo(200);
    assertThat(paths.body())
        .contains("  http: debug\n")
        .contains("  jwt: trace\n")
        .contains("  ext_authz: warning\n"); // a package under http keeps its own level

    String usage =
        "usage: /logging?<name>=<level> (change single level)\n"
            + "usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n"
            + "usage: /logging?level=<level> (change all levels)\n"
            + "levels: trace debug info warning error critical off \n"
            + "active loggers:\n";
    var badLevel = post("/logging?level=loud");
    assertThat(badLevel.statusCode()).isEqualTo(400);
    assertThat(badLevel.body()).startsWith("error: unknown logger level\n\n" + usage);
    var badName = post("/logging?nope=debug");
    assertThat(badName.statusCode()).isEqualTo(400);
    assertThat(badName.body()).startsWith("error: unknown logger name\n\n" + usage);
    var two = post("/logging?http=info&jwt=info");
    assertThat(two.statusCode()).isEqualTo(400);
    assertThat(two.body()).startsWith("error: invalid number of parameters\n\n" + usage);
    var empty = post("/logging?paths=main:error,upstream");
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(empty.body())
        .startsWith("error: empty logger name or empty logger level\n\n" + usage)
        .contains("  main: warning\n"); // nothing changed
    var unknownInPaths = post("/logging?paths=main:error,nope:debug");
    assertThat(unknownInPaths.statusCode()).isEqualTo(400);
    assertThat(unknownInPaths.body()).contains("  main: warning\n");

    var critical = post("/logging?main=critical");
    assertThat(critical.body()).contains("  main: critical\n");
    assertThat(
            Logger.getLogger("dev.bowline.proxy.Proxy").isLoggable(java.util.logging.Level.SEVERE))
        .as("critical is above error")
        .isFalse();
  }
}
