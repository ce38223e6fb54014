package dev.bowline.proxy.accesslog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogFormatTest {

  /** A finished stream as the connection manager would describe it. */
  private static final class Info implements StreamInfo {
    long start = Instant.parse("2026-11-25T21:05:09.007Z").toEpochMilli();
    int flags;
    final HttpHeaders req = new DefaultHttpHeaders();
    @Nullable HttpHeaders resp = new DefaultHttpHeaders();
    @Nullable String upstreamHost = "10.0.0.7:8080";
    final Map<Object, Object> state = new HashMap<>();

    @Override
    public long startEpochMillis() {
      return start;
    }

    @Override
    public long startNanos() {
      return 0;
    }

    @Override
    public long durationNanos() {
      return 12_400_000;
    }

    @Override
    public long responseStartNanos() {
      return 0;
    }

    @Override
    public int responseCode() {
      return 503;
    }

    @Override
    public int responseFlags() {
      return flags;
    }

    @Override
    public long bytesReceived() {
      return 0;
    }

    @Override
    public long bytesSent() {
      return 1024;
    }

    @Override
    public String protocol() {
      return "HTTP/1.1";
    }

    @Override
    public HttpHeaders requestHeaders() {
      return req;
    }

    @Override
    public String method() {
      return "GET";
    }

    @Override
    public String path() {
      return "/weather?city=Paris";
    }

    @Override
    public @Nullable HttpHeaders responseHeaders() {
      return resp;
    }

    @Override
    public @Nullable HttpHeaders responseTrailers() {
      return null;
    }

    @Override
    public @Nullable String upstreamCluster() {
      return "outbound|3000||forecast.weather.svc.cluster.local";
    }

    @Override
    public @Nullable String upstreamHost() {
      return upstreamHost;
    }

    @Override
    public @Nullable String routeName() {
      return "";
    }

    @Override
    public String downstreamRemoteAddress() {
      return "127.0.0.9:41234";
    }

    @Override
    public String downstreamLocalAddress() {
      return "127.0.0.1:8080";
    }

    @Override
    public String requestedServerName() {
      return "forecast.weather";
    }

    @SuppressWarnings("unchecked")
    @Override
    public <T> @Nullable T get(StateKey<T> key) {
      return (T) state.get(key);
    }

    @Override
    public <T> void put(StateKey<T> key, T value) {
      state.put(key, value);
    }
  }

  @Test
  void envoysDefaultTextFormatRendersEveryValueInPlace() {
    Info info = new Info();
    info.flags |= ResponseFlag.UO.bit();
    info.req.set("x-request-id", "abc").set("host", "forecast:3000").set("user-agent", "curl");
    String line = LogFormat.text(LogFormat.ENVOY_DEFAULT).render(info);
    assertThat(line)
        .isEqualTo(
            "[2026-11-25T21:05:09.007Z] \"GET /weather?city=Paris HTTP/1.1\" 503 UO 0 1024 12 - \"-\""
                + " \"curl\" \"abc\" \"forecast:3000\" \"10.0.0.7:8080\"\n");
  }

  @Test
  void startTimeKeepsItsMillisecondsAcrossTheCachedSecond() {
    Info info = new Info();
    LogFormat f = LogFormat.text("%START_TIME%");
    assertThat(f.render(info)).isEqualTo("2026-11-25T21:05:09.007Z");
    info.start += 990; // same second, three-digit millis
    assertThat(f.render(info)).isEqualTo("2026-11-25T21:05:09.997Z");
    info.start += 43; // next second
    assertThat(f.render(info)).isEqualTo("2026-11-25T21:05:10.040Z");
    info.start = Instant.parse("1969-12-31T23:59:59.500Z").toEpochMilli(); // negative epoch
    assertThat(f.render(info)).isEqualTo("1969-12-31T23:59:59.500Z");
    // a custom strftime format (printed in the ISO form for now) keeps the text around it
    assertThat(LogFormat.text("[%START_TIME(%Y/%m/%d)%] %PROTOCOL%").render(info))
        .isEqualTo("[1969-12-31T23:59:59.500Z] HTTP/1.1");
  }

  @Test
  void missingValuesAreDashesAndTruncationCutsInPlace() {
    Info info = new Info();
    info.upstreamHost = null;
    info.req.set("user-agent", "Mozilla/5.0 (X11; Linux x86_64)");
    String line =
        LogFormat.text(
                "%UPSTREAM_HOST% %RESPONSE_FLAGS% %REQ(USER-AGENT):7% %REQ(X-MISSING?:AUTHORITY)%"
                    + " %RESP(:STATUS)% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
                    + " %REQUESTED_SERVER_NAME% %RESPONSE_CODE_DETAILS% %UPSTREAM_LOCAL_ADDRESS%"
                    + " %CONNECTION_TERMINATION_DETAILS% 100%%")
            .render(info);
    assertThat(line).isEqualTo("- - Mozilla - 503 127.0.0.9 forecast.weather - - - 100%");
  }

  @Test
  void jsonFormatHasNumbersNullsAndEscapedStrings() {
    Info info = new Info();
    info.req.set("user-agent", "say \"hi\"\t");
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put("code", "%RESPONSE_CODE%");
    keys.put("upstream_rq", "%RESPONSE_DURATION%");
    keys.put("ua", "%REQ(USER-AGENT)%");
    keys.put("missing", "%REQ(X-NONE)%");
    keys.put("mixed", "%PROTOCOL% %REQ(X-NONE)%");
    String line = LogFormat.json(keys).render(info);
    assertThat(line)
        .isEqualTo(
            "{\"code\":503,\"upstream_rq\":null,\"ua\":\"say \\\"hi\\\"\\t\",\"missing\":null,"
                + "\"mixed\":\"HTTP/1.1 -\"}\n");
  }

  @Test
  void writerFlushesLinesToTheFileInOrder(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("access.log");
    Info info = new Info();
    try (AccessLogWriter writer = new AccessLogWriter(50, 10_000)) {
      FileAccessLog log =
          new FileAccessLog(file.toString(), LogFormat.text("%BYTES_SENT% %REQ(N)%\n"), writer);
      for (int i = 0; i < 3000; i++) { // more than one 64 KiB flush
        info.req.set("n", "line-" + i + "-" + "x".repeat(40));
        log.log(info);
      }
    }
    var lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3000);
    assertThat(lines.getFirst()).startsWith("1024 line-0-");
    assertThat(lines.getLast()).startsWith("1024 line-2999-");
  }

  @Test
  void metadataCommandTakesRouteClusterAndDynamicAndRefusesTheRest() {
    Info info = new Info();
    assertThat(
            LogFormat.text(
                    "%METADATA(ROUTE:istio:config)% %METADATA(DYNAMIC:a:b)%"
                        + " %METADATA(CLUSTER:istio:services)%\n")
                .render(info))
        .isEqualTo("- - -\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> LogFormat.text("%METADATA(LISTENER:istio)%"))
        .hasMessage(
            "command %METADATA(LISTENER:istio)%: only ROUTE, VIRTUAL_HOST, CLUSTER and DYNAMIC"
                + " metadata are supported");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LogFormat.text("%METADATA(ROUTE)%"))
        .hasMessage("command %METADATA(ROUTE)%: namespace required");
  }
}
