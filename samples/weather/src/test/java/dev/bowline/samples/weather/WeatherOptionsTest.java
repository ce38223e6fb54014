package dev.bowline.samples.weather;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeatherOptionsTest {

  @Test
  void defaultsAreTheBookServicesWithIstioNames() {
    WeatherOptions o = WeatherOptions.parse(List.of("--role", "frontend"), Map.of());

    assertThat(o.role()).isEqualTo(Role.FRONTEND);
    assertThat(o.version()).isEqualTo("v1");
    assertThat(o.port()).isEqualTo(3000);
    assertThat(o.bind().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(o.forecastUrl()).isEqualTo(URI.create("http://forecast.weather:3002"));
    assertThat(o.advertisementUrl()).isEqualTo(URI.create("http://advertisement.weather:3003"));
    assertThat(o.recommendationUrl()).isEqualTo(URI.create("http://recommendation.weather:3005"));
    assertThat(o.httpProxy()).isNull();
    assertThat(o.grpcPort()).isEqualTo(-1);
    assertThat(o.switches()).isEqualTo(Switches.NONE);
    assertThat(Role.FORECAST.portName()).isEqualTo("http-forecast");
  }

  @Test
  void flagsWinOverEnvironmentAndEnvironmentOverDefaults() {
    Map<String, String> env =
        Map.of(
            "WEATHER_ROLE", "recommendation",
            "WEATHER_VERSION", "v2",
            "WEATHER_PORT", "4000",
            "HTTP_PROXY", "http://127.0.0.9:15001",
            "NO_PROXY", "localhost, .internal",
            "WEATHER_DELAY", "250ms");

    WeatherOptions o =
        WeatherOptions.parse(
            List.of("--port=4100", "--error-rate", "0.25", "--error-status", "500"), env);

    assertThat(o.role()).isEqualTo(Role.RECOMMENDATION);
    assertThat(o.version()).isEqualTo("v2");
    assertThat(o.port()).isEqualTo(4100);
    assertThat(o.grpcPort()).isEqualTo(3006);
    assertThat(o.httpProxy()).isEqualTo(InetSocketAddress.createUnresolved("127.0.0.9", 15001));
    assertThat(o.noProxy()).containsExactly("localhost", ".internal");
    assertThat(o.switches()).isEqualTo(new Switches(Duration.ofMillis(250), 0.25, 500));
  }

  @Test
  void lowerCaseProxyVariableAndBareHostPortAreAccepted() {
    WeatherOptions o =
        WeatherOptions.parse(
            List.of("--role", "forecast"), Map.of("http_proxy", "127.0.0.4:15001"));

    assertThat(o.httpProxy()).isEqualTo(InetSocketAddress.createUnresolved("127.0.0.4", 15001));
  }

  @Test
  void badInputNamesTheFlag() {
    assertThatThrownBy(() -> WeatherOptions.parse(List.of(), Map.of()))
        .hasMessage("--role: required (or env WEATHER_ROLE)");
    assertThatThrownBy(() -> WeatherOptions.parse(List.of("--role", "weather"), Map.of()))
        .hasMessage(
            "--role: unknown role 'weather'; expected one of frontend|forecast|advertisement|recommendation");
    assertThatThrownBy(() -> parse("--version", "v3"))
        .hasMessage("--version: expected v1 or v2, got 'v3'");
    assertThatThrownBy(() -> parse("--port", "http"))
        .hasMessage("--port: expected a number, got 'http'");
    assertThatThrownBy(() -> parse("--port", "70000"))
        .hasMessage("--port: must be 0-65535, got 70000");
    assertThatThrownBy(() -> parse("--delay", "soon"))
        .hasMessage("--delay: expected a duration like 500ms or 2s, got 'soon'");
    assertThatThrownBy(() -> parse("--error-rate", "1.5"))
        .hasMessage("--error-rate: must be between 0 and 1, got 1.5");
    assertThatThrownBy(() -> parse("--error-status", "200"))
        .hasMessage("--error-status: must be an HTTP error status 400-599, got 200");
    assertThatThrownBy(() -> parse("--forecast-url", "forecast:3002"))
        .hasMessage("--forecast-url: expected http://host:port, got 'forecast:3002'");
    assertThatThrownBy(() -> parse("--colour", "blue"))
        .hasMessage("unknown option '--colour'; see --help");
    assertThatThrownBy(() -> parse("--delay")).hasMessage("--delay: missing value");
  }

  @Test
  void durationsAreWrittenAsIstioWritesThem() {
    assertThat(WeatherOptions.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(WeatherOptions.parseDuration("2s")).isEqualTo(Duration.ofSeconds(2));
    assertThat(WeatherOptions.parseDuration("3")).isEqualTo(Duration.ofSeconds(3));
    assertThat(WeatherOptions.parseDuration("1m")).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void noProxyMatchesHostsAndDomains() {
    var selector =
        new MeshProxySelector(
            InetSocketAddress.createUnresolved("127.0.0.9", 15001),
            List.of("localhost", ".svc.local", "weather"));

    assertThat(selector.bypasses("localhost")).isTrue();
    assertThat(selector.bypasses("forecast.svc.local")).isTrue();
    assertThat(selector.bypasses("forecast.weather")).isTrue();
    assertThat(selector.bypasses("weather")).isTrue();
    assertThat(selector.bypasses("forecast.default")).isFalse();
    assertThat(selector.bypasses("myweather")).isFalse();
    assertThat(selector.select(URI.create("http://forecast.default:3002/")).getFirst().address())
        .isEqualTo(InetSocketAddress.createUnresolved("127.0.0.9", 15001));
  }

  private static WeatherOptions parse(String... args) {
    List<String> all = new java.util.ArrayList<>(List.of("--role", "forecast"));
    all.addAll(List.of(args));
    return WeatherOptions.parse(all, Map.of());
  }
}
