package dev.bowline.samples.weather;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The apps reach each other by their Istio names (http://forecast.weather:3002) through an HTTP
 * proxy, as they do through the mesh's sidecar: a stand-in sidecar here receives absolute-form
 * requests and forwards them by a name table, the way the real one does by its routes.
 */
class HttpProxyTest {

  private final List<AutoCloseable> running = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : running.reversed()) {
      c.close();
    }
  }

  @Test
  void outboundCallsUseIstioNamesThroughTheProxy() throws Exception {
    WeatherApp recommendation = app(Role.RECOMMENDATION, "127.0.73.5", null);
    WeatherApp advertisement = app(Role.ADVERTISEMENT, "127.0.73.4", null);
    FakeSidecar sidecar =
        new FakeSidecar(
            InetAddress.getByName("127.0.73.100"),
            Map.of(
                "recommendation.weather:3005", recommendation.uri(),
                "advertisement.weather:3003", advertisement.uri()));
    running.add(sidecar);
    WeatherApp forecast = app(Role.FORECAST, "127.0.73.3", sidecar.address());
    sidecar.routes.put("forecast.weather:3002", forecast.uri());
    WeatherApp frontend = app(Role.FRONTEND, "127.0.73.1", sidecar.address());

    JsonNode d;
    try (Http http = new Http()) {
      d =
          http.json(
              http.get(
                  frontend.uri().resolve("/api/dashboard?city=hangzhou"), "x-request-id", "r-1"));
    }

    assertThat(d.at("/forecast/version").asText()).isEqualTo("v2");
    assertThat(d.at("/forecast/body/recommendation/ok").asBoolean()).isTrue();
    assertThat(d.at("/advertisement/ok").asBoolean()).isTrue();
    assertThat(sidecar.seen)
        .extracting(Seen::requestTarget)
        .containsExactlyInAnyOrder(
            "http://forecast.weather:3002/api/forecast?city=hangzhou",
            "http://advertisement.weather:3003/api/ad?city=hangzhou",
            "http://recommendation.weather:3005/api/recommendations?city=hangzhou&condition="
                + d.at("/forecast/body/days/0/condition").asText().replace(" ", "+")
                + "&high="
                + d.at("/forecast/body/days/0/high").asInt()
                + "&low="
                + d.at("/forecast/body/days/0/low").asInt());
    assertThat(sidecar.seen)
        .allSatisfy(
            s -> {
              assertThat(s.host()).isEqualTo(URI.create(s.requestTarget()).getAuthority());
              assertThat(s.requestId()).isEqualTo("r-1");
            });
  }

  @Test
  void noProxyHostsAreCalledDirectly() throws Exception {
    WeatherApp advertisement = app(Role.ADVERTISEMENT, "127.0.73.14", null);
    FakeSidecar sidecar = new FakeSidecar(InetAddress.getByName("127.0.73.101"), Map.of());
    running.add(sidecar);
    WeatherOptions options =
        WeatherOptions.defaults(Role.FRONTEND, "v1")
            .withListen(InetAddress.getByName("127.0.73.11"), 0)
            .withUpstreams(
                URI.create("http://forecast.weather:3002"),
                advertisement.uri(),
                WeatherOptions.DEFAULT_RECOMMENDATION_URL)
            .withHttpProxy(sidecar.address(), List.of("127.0.73.14"));
    WeatherApp frontend = WeatherApp.start(options);
    running.add(frontend);

    JsonNode d;
    try (Http http = new Http()) {
      d = http.json(http.get(frontend.uri().resolve("/api/dashboard?city=harbin")));
    }

    assertThat(d.at("/advertisement/ok").asBoolean()).isTrue();
    assertThat(d.at("/forecast/status").asInt()).isEqualTo(502);
    assertThat(sidecar.seen)
        .extracting(Seen::requestTarget)
        .containsExactly("http://forecast.weather:3002/api/forecast?city=harbin");
  }

  private WeatherApp app(Role role, String address, InetSocketAddress proxy) throws IOException {
    WeatherOptions options =
        WeatherOptions.defaults(role, "v2")
            .withListen(InetAddress.getByName(address), 0)
            .withGrpcPort(-1)
            .withHttpProxy(proxy, List.of());
    WeatherApp app = WeatherApp.start(options);
    running.add(app);
    return app;
  }

  /** What the stand-in sidecar received: the request line's target, Host and x-request-id. */
  record Seen(String requestTarget, String host, String requestId) {}

  /** An HTTP proxy that forwards absolute-form requests by host:port; 502 for unknown names. */
  static final class FakeSidecar implements AutoCloseable {
    private static final Set<String> NOT_FORWARDED =
        Set.of("host", "connection", "content-length", "expect", "upgrade", "proxy-connection");

    final Map<String, URI> routes;
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final HttpServer server;
    private final HttpClient client =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    FakeSidecar(InetAddress address, Map<String, URI> routes) throws IOException {
      this.routes = new ConcurrentHashMap<>(routes);
      this.server = HttpServer.create(new InetSocketAddress(address, 0), 16);
      server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      server.createContext("/", this::forward);
      server.start();
    }

    InetSocketAddress address() {
      return server.getAddress();
    }

    private void forward(HttpExchange exchange) throws IOException {
      try (exchange) {
        URI target = exchange.getRequestURI();
        seen.add(
            new Seen(
                target.toString(),
                exchange.getRequestHeaders().getFirst("host"),
                exchange.getRequestHeaders().getFirst("x-request-id")));
        URI upstream = target.getHost() == null ? null : routes.get(target.getAuthority());
        if (upstream == null) {
          exchange.sendResponseHeaders(502, -1);
          return;
        }
        HttpRequest.Builder request =
            HttpRequest.newBuilder(
                upstream.resolve(
                    target.getRawPath()
                        + (target.getRawQuery() == null ? "" : "?" + target.getRawQuery())));
        exchange
            .getRequestHeaders()
            .forEach(
                (name, values) -> {
                  if (!NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                    values.forEach(v -> request.header(name, v));
                  }
                });
        HttpResponse<byte[]> response =
            client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        response
            .headers()
            .map()
            .forEach(
                (name, values) -> {
                  String n = name.toLowerCase(Locale.ROOT);
                  if (n.startsWith("x-weather-") || n.equals("content-type")) {
                    exchange.getResponseHeaders().put(name, values);
                  }
                });
        exchange.sendResponseHeaders(response.statusCode(), response.body().length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(response.body());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {
      server.stop(0);
      client.close();
    }
  }
}
