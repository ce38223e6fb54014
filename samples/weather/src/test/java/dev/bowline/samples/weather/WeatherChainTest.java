package dev.bowline.samples.weather;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real role instances on their own loopback addresses, talking real HTTP: frontend to forecast v2
 * to recommendation, plus advertisement and a forecast v1 beside them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WeatherChainTest {

  private final Http http = new Http();
  private final List<WeatherApp> apps = new ArrayList<>();
  private WeatherApp recommendation;
  private WeatherApp forecastV1;
  private WeatherApp forecastV2;
  private WeatherApp advertisement;
  private WeatherApp frontend;
  private WeatherApp frontendOnV1;

  @BeforeAll
  void startTheApp() throws IOException {
    recommendation = start(Role.RECOMMENDATION, "v1", "127.0.71.5", o -> o);
    forecastV2 =
        start(
            Role.FORECAST,
            "v2",
            "127.0.71.3",
            o -> o.withUpstreams(o.forecastUrl(), o.advertisementUrl(), recommendation.uri()));
    forecastV1 = start(Role.FORECAST, "v1", "127.0.71.2", o -> o);
    advertisement = start(Role.ADVERTISEMENT, "v1", "127.0.71.4", o -> o);
    frontend =
        start(
            Role.FRONTEND,
            "v1",
            "127.0.71.1",
            o -> o.withUpstreams(forecastV2.uri(), advertisement.uri(), o.recommendationUrl()));
    frontendOnV1 =
        start(
            Role.FRONTEND,
            "v2",
            "127.0.71.6",
            o -> o.withUpstreams(forecastV1.uri(), advertisement.uri(), o.recommendationUrl()));
  }

  @AfterEach
  void switchFaultsOff() {
    apps.forEach(a -> a.switches(Switches.NONE));
  }

  @AfterAll
  void stop() {
    apps.forEach(WeatherApp::close);
    http.close();
  }

  @Test
  void dashboardComposesForecastV2WithRecommendationAndAnAdvertisement() {
    HttpResponse<String> response =
        http.get(frontend.uri().resolve("/api/dashboard?city=Shanghai"));

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode d = http.json(response);
    assertThat(d.at("/frontend/version").asText()).isEqualTo("v1");
    assertThat(d.at("/city").asText()).isEqualTo("Shanghai");
    assertThat(d.at("/forecast/ok").asBoolean()).isTrue();
    assertThat(d.at("/forecast/version").asText()).isEqualTo("v2");
    assertThat(d.at("/forecast/instance").asText()).isEqualTo(forecastV2.instance());
    assertThat(d.at("/forecast/body/days")).hasSize(3);
    assertThat(d.at("/forecast/body/recommendation/ok").asBoolean()).isTrue();
    assertThat(d.at("/forecast/body/recommendation/instance").asText())
        .isEqualTo(recommendation.instance());
    assertThat(d.at("/forecast/body/recommendation/body/items").size()).isGreaterThanOrEqualTo(2);
    assertThat(d.at("/advertisement/ok").asBoolean()).isTrue();
    assertThat(d.at("/advertisement/version").asText()).isEqualTo("v1");
    assertThat(d.at("/advertisement/body/ad/title").asText()).isNotBlank();
  }

  @Test
  void forecastV1HasWeatherOnlyAndTheSameWeatherAsV2() {
    JsonNode v1 = http.json(http.get(forecastV1.uri().resolve("/api/forecast?city=beijing")));
    JsonNode v2 = http.json(http.get(forecastV2.uri().resolve("/api/forecast?city=beijing")));

    assertThat(v1.get("version").asText()).isEqualTo("v1");
    assertThat(v1.has("recommendation")).isFalse();
    assertThat(v2.get("version").asText()).isEqualTo("v2");
    assertThat(v2.has("recommendation")).isTrue();
    assertThat(v1.get("days")).isEqualTo(v2.get("days"));

    JsonNode viaFrontend =
        http.json(http.get(frontendOnV1.uri().resolve("/api/dashboard?city=beijing")));
    assertThat(viaFrontend.at("/frontend/version").asText()).isEqualTo("v2");
    assertThat(viaFrontend.at("/forecast/version").asText()).isEqualTo("v1");
    assertThat(viaFrontend.at("/forecast/body").has("recommendation")).isFalse();
  }

  @Test
  void recommendationV2AddsATravelHint() throws IOException {
    WeatherApp v2 = start(Role.RECOMMENDATION, "v2", "127.0.71.7", o -> o);
    String q = "/api/recommendations?condition=sunny&high=30&low=20";

    JsonNode one = http.json(http.get(recommendation.uri().resolve(q)));
    JsonNode two = http.json(http.get(v2.uri().resolve(q)));

    assertThat(one.get("items").findValuesAsText("kind")).doesNotContain("travel");
    assertThat(two.get("items").findValuesAsText("kind")).contains("travel", "health");
  }

  @Test
  void everyAnswerNamesItsInstance() {
    for (WeatherApp app : apps) {
      HttpResponse<String> health = http.get(app.uri().resolve("/health"));
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.headers().firstValue("x-weather-instance")).hasValue(app.instance());
      assertThat(health.headers().firstValue("x-weather-version"))
          .hasValue(app.options().version());
      assertThat(health.headers().firstValue("x-weather-service"))
          .hasValue(app.options().role().serviceName());
      JsonNode body = http.json(health);
      assertThat(body.get("status").asText()).isEqualTo("UP");
      assertThat(body.at("/ports/" + app.options().role().portName()).asInt())
          .isEqualTo(app.address().getPort());
    }
    assertThat(apps.stream().map(WeatherApp::instance).distinct()).hasSize(apps.size());
    assertThat(forecastV2.instance()).startsWith("forecast-v2@127.0.71.3:");
  }

  @Test
  void tracingAndUserHeadersReachTheEndOfTheChain() {
    http.get(
        frontend.uri().resolve("/api/dashboard?city=chengdu"),
        "x-request-id",
        "req-7f3a",
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate",
        "congo=t61rcWkgMzE",
        "b3",
        "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1",
        "x-b3-traceid",
        "80f198ee56343ba864fe8b2a57d3eff7",
        "x-b3-spanid",
        "e457b5a2e4d86bd1",
        "x-b3-sampled",
        "1",
        "x-canary-group",
        "blue",
        "cookie",
        "user=tester",
        "user-agent",
        "Mozilla/5.0 Chrome/120.0",
        "x-forwarded-for",
        "10.0.0.1",
        "x-envoy-attempt-count",
        "1");

    for (WeatherApp hop : List.of(forecastV2, recommendation, advertisement)) {
      Map<String, String> seen = lastHeaders(hop, "city=chengdu");
      assertThat(seen)
          .as("headers seen by %s", hop.instance())
          .containsEntry("x-request-id", "req-7f3a")
          .containsEntry("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
          .containsEntry("tracestate", "congo=t61rcWkgMzE")
          .containsEntry("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1")
          .containsEntry("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7")
          .containsEntry("x-b3-spanid", "e457b5a2e4d86bd1")
          .containsEntry("x-b3-sampled", "1")
          .containsEntry("x-canary-group", "blue")
          .containsEntry("cookie", "user=tester")
          .containsEntry("user-agent", "Mozilla/5.0 Chrome/120.0")
          .doesNotContainKeys("x-forwarded-for", "x-envoy-attempt-count");
    }
  }

  @Test
  void delaySwitchHoldsEachApiAnswerButNotHealth() {
    HttpResponse<String> set = http.post(forecastV1.uri().resolve("/admin/switches?delay=1500ms"));
    assertThat(http.json(set).get("delay").asText()).isEqualTo("1500ms");

    long started = System.nanoTime();
    CompletableFuture<HttpResponse<String>> slow =
        CompletableFuture.supplyAsync(
            () -> http.get(forecastV1.uri().resolve("/api/forecast?city=harbin")));
    HttpResponse<String> health = http.get(forecastV1.uri().resolve("/health"));
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(slow).as("the delayed answer, still held while /health answered").isNotDone();

    assertThat(slow.join().statusCode()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .isGreaterThanOrEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void errorSwitchAnswersTheChosenStatusAndTheDashboardKeepsTheOtherParts() {
    http.post(forecastV2.uri().resolve("/admin/switches?errorRate=1&errorStatus=500"));

    HttpResponse<String> direct = http.get(forecastV2.uri().resolve("/api/forecast?city=xian"));
    assertThat(direct.statusCode()).isEqualTo(500);
    assertThat(direct.headers().firstValue("x-weather-instance")).hasValue(forecastV2.instance());
    assertThat(http.get(forecastV2.uri().resolve("/health")).statusCode()).isEqualTo(200);

    JsonNode d = http.json(http.get(frontend.uri().resolve("/api/dashboard?city=xian")));
    assertThat(d.at("/forecast/ok").asBoolean()).isFalse();
    assertThat(d.at("/forecast/status").asInt()).isEqualTo(500);
    assertThat(d.at("/forecast/version").asText()).isEqualTo("v2");
    assertThat(d.at("/forecast/error").asText())
        .startsWith("HTTP 500")
        .contains("error-rate switch");
    assertThat(d.at("/advertisement/ok").asBoolean()).isTrue();
  }

  @Test
  void errorRateFailsThatShareOfRequests() {
    http.post(advertisement.uri().resolve("/admin/switches?errorRate=0.5"));
    Map<Integer, Integer> byStatus = new HashMap<>();
    int n = 400;
    for (int i = 0; i < n; i++) {
      int status = http.get(advertisement.uri().resolve("/api/ad")).statusCode();
      byStatus.merge(status, 1, Integer::sum);
    }

    assertThat(byStatus.keySet()).containsExactlyInAnyOrder(200, 503);
    // Binomial(400, 0.5): 6 standard deviations is +-60.
    assertThat(byStatus.get(503)).isBetween(140, 260);
  }

  @Test
  void failingRecommendationDegradesForecastV2InsteadOfFailingIt() {
    recommendation.switches(Switches.NONE.withErrorRate(1).withErrorStatus(503));

    JsonNode f = http.json(http.get(forecastV2.uri().resolve("/api/forecast?city=lhasa")));

    assertThat(f.get("days")).hasSize(3);
    assertThat(f.at("/recommendation/ok").asBoolean()).isFalse();
    assertThat(f.at("/recommendation/status").asInt()).isEqualTo(503);
  }

  @Test
  void unreachableOrSlowUpstreamsAreReportedByName() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.71.8"))) {
      closedPort = s.getLocalPort();
    }
    URI nowhere = URI.create("http://127.0.71.8:" + closedPort);
    WeatherApp lonely =
        start(
            Role.FRONTEND,
            "v1",
            "127.0.71.9",
            o ->
                o.withUpstreams(nowhere, advertisement.uri(), o.recommendationUrl())
                    .withUpstreamTimeout(Duration.ofMillis(300)));
    JsonNode d = http.json(http.get(lonely.uri().resolve("/api/dashboard?city=kunming")));
    assertThat(d.at("/forecast/ok").asBoolean()).isFalse();
    assertThat(d.at("/forecast/status").asInt()).isZero();
    assertThat(d.at("/forecast/error").asText())
        .startsWith("GET " + nowhere + "/api/forecast?city=kunming: ");

    advertisement.switches(Switches.NONE.withDelay(Duration.ofSeconds(2)));
    d = http.json(http.get(lonely.uri().resolve("/api/dashboard?city=kunming")));
    assertThat(d.at("/advertisement/error").asText())
        .isEqualTo("GET " + advertisement.uri() + "/api/ad?city=kunming: timed out");
  }

  @Test
  void badRequestsNameTheParameter() {
    HttpResponse<String> unknown = http.get(frontend.uri().resolve("/api/dashboard?city=atlantis"));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(http.json(unknown).get("error").asText())
        .startsWith("city: unknown city 'atlantis'; known: beijing, shanghai");

    HttpResponse<String> missing =
        http.get(recommendation.uri().resolve("/api/recommendations?high=3"));
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(http.json(missing).get("error").asText())
        .isEqualTo("condition: required query parameter is missing");

    HttpResponse<String> badSwitch =
        http.post(forecastV1.uri().resolve("/admin/switches?errorRate=2"));
    assertThat(badSwitch.statusCode()).isEqualTo(400);
    assertThat(http.json(badSwitch).get("error").asText())
        .isEqualTo("errorRate: must be between 0 and 1, got 2.0");

    assertThat(http.get(forecastV1.uri().resolve("/nope")).statusCode()).isEqualTo(404);
  }

  @Test
  void pageShowsTheFrontendVersionAndCitiesAreListed() {
    HttpResponse<String> page = http.get(frontendOnV1.uri().resolve("/"));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
    assertThat(page.body())
        .contains("<body class=\"v2\">")
        .contains("frontend v2")
        .contains("/api/dashboard?city=");

    JsonNode cities = http.json(http.get(frontend.uri().resolve("/api/cities")));
    assertThat(cities.get("cities").findValuesAsText("id"))
        .hasSize(WeatherModel.CITIES.size())
        .contains("beijing", "shanghai");
  }

  private Map<String, String> lastHeaders(WeatherApp app, String targetContains) {
    JsonNode log = http.json(http.get(app.uri().resolve("/admin/requests")));
    JsonNode match = null;
    for (JsonNode seen : log.get("recent")) {
      if (seen.get("target").asText().contains(targetContains)) {
        match = seen;
      }
    }
    assertThat(match).as("a request with %s at %s", targetContains, app.instance()).isNotNull();
    Map<String, String> out = new HashMap<>();
    match.get("headers").properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
    return out;
  }

  private WeatherApp start(
      Role role,
      String version,
      String address,
      java.util.function.UnaryOperator<WeatherOptions> tweak)
      throws IOException {
    WeatherOptions options =
        tweak.apply(
            WeatherOptions.defaults(role, version)
                .withListen(InetAddress.getByName(address), 0)
                .withGrpcPort(-1));
    WeatherApp app = WeatherApp.start(options);
    apps.add(app);
    return app;
  }
}
