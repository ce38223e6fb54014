package dev.bowline.samples.weather;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * How one app instance runs: its role and version, where it listens, where its upstreams are, the
 * HTTP proxy its calls go through (the mesh's sidecar) and its fault switches.
 *
 * @param role which service this instance is
 * @param version {@code v1} or {@code v2}
 * @param bind the address to listen on
 * @param port the HTTP port; 0 picks a free one
 * @param grpcPort the gRPC port of recommendation; 0 picks a free one, -1 for none
 * @param instance the name reported in {@code x-weather-instance}; empty for role-version@address
 * @param forecastUrl where frontend finds forecast
 * @param advertisementUrl where frontend finds advertisement
 * @param recommendationUrl where forecast v2 finds recommendation
 * @param httpProxy the proxy every outbound call goes through, or null for direct calls
 * @param noProxy hosts (or domain suffixes, or {@code *}) reached directly despite the proxy
 * @param upstreamTimeout how long an outbound call may take before the app gives up
 * @param switches the initial fault switches
 */
public record WeatherOptions(
    Role role,
    String version,
    InetAddress bind,
    int port,
    int grpcPort,
    String instance,
    URI forecastUrl,
    URI advertisementUrl,
    URI recommendationUrl,
    @Nullable InetSocketAddress httpProxy,
    List<String> noProxy,
    Duration upstreamTimeout,
    Switches switches) {

  /** The upstream of frontend, Istio-style: service {@code forecast} in namespace weather. */
  public static final URI DEFAULT_FORECAST_URL = URI.create("http://forecast.weather:3002");

  /** The upstream of frontend for advertisements. */
  public static final URI DEFAULT_ADVERTISEMENT_URL =
      URI.create("http://advertisement.weather:3003");

  /** The upstream of forecast v2. */
  public static final URI DEFAULT_RECOMMENDATION_URL =
      URI.create("http://recommendation.weather:3005");

  /** The default gRPC port of recommendation. */
  public static final int DEFAULT_GRPC_PORT = 3006;

  /** Text for {@code --help}. */
  public static final String USAGE =
      """
      Usage: java -jar bowline-weather-all.jar --role ROLE [options]
      The Weather Forecast app of the book's practice chapters; one role per process.
        --role frontend|forecast|advertisement|recommendation   (env WEATHER_ROLE)
        --version v1|v2             default v1                   (env WEATHER_VERSION)
        --bind ADDRESS              default 127.0.0.1            (env WEATHER_BIND)
        --port N                    default 3000/3002/3003/3005  (env WEATHER_PORT)
        --grpc-port N               recommendation only; default 3006, -1 for none (env WEATHER_GRPC_PORT)
        --instance NAME             default role-version@address (env WEATHER_INSTANCE)
        --forecast-url URL          default http://forecast.weather:3002       (env FORECAST_URL)
        --advertisement-url URL     default http://advertisement.weather:3003  (env ADVERTISEMENT_URL)
        --recommendation-url URL    default http://recommendation.weather:3005 (env RECOMMENDATION_URL)
        --http-proxy HOST:PORT      outbound calls go through it (env HTTP_PROXY, http_proxy)
        --no-proxy LIST             hosts reached directly (env NO_PROXY, no_proxy)
        --upstream-timeout DURATION default 10s                  (env WEATHER_UPSTREAM_TIMEOUT)
        --delay DURATION            delay before each API answer, e.g. 500ms, 2s (env WEATHER_DELAY)
        --error-rate R              share 0..1 of API requests that fail (env WEATHER_ERROR_RATE)
        --error-status N            status of a failed request, default 503 (env WEATHER_ERROR_STATUS)
      Endpoints: /health, /admin/switches (GET; POST ?delay=&errorRate=&errorStatus=), /admin/requests
      """;

  private static final Pattern VERSION = Pattern.compile("v[12]");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");

  /** Validates the combination, naming the flag at fault. */
  public WeatherOptions {
    Objects.requireNonNull(role, "role");
    if (!VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException("--version: expected v1 or v2, got '" + version + "'");
    }
    checkPort("--port", port, false);
    checkPort("--grpc-port", grpcPort, true);
    if (upstreamTimeout.isNegative() || upstreamTimeout.isZero()) {
      throw new IllegalArgumentException("--upstream-timeout: must be positive");
    }
    noProxy = List.copyOf(noProxy);
  }

  /** Options for a role with every default: loopback, the book's port, no proxy, no faults. */
  public static WeatherOptions defaults(Role role, String version) {
    return new WeatherOptions(
        role,
        version,
        InetAddress.getLoopbackAddress(),
        role.defaultPort(),
        role == Role.RECOMMENDATION ? DEFAULT_GRPC_PORT : -1,
        "",
        DEFAULT_FORECAST_URL,
        DEFAULT_ADVERTISEMENT_URL,
        DEFAULT_RECOMMENDATION_URL,
        null,
        List.of(),
        Duration.ofSeconds(10),
        Switches.NONE);
  }

  /** A copy listening on another address and port. */
  public WeatherOptions withListen(InetAddress newBind, int newPort) {
    return new WeatherOptions(
        role,
        version,
        newBind,
        newPort,
        grpcPort,
        instance,
        forecastUrl,
        advertisementUrl,
        recommendationUrl,
        httpProxy,
        noProxy,
        upstreamTimeout,
        switches);
  }

  /** A copy with another gRPC port (-1 for none). */
  public WeatherOptions withGrpcPort(int newGrpcPort) {
    return new WeatherOptions(
        role,
        version,
        bind,
        port,
        newGrpcPort,
        instance,
        forecastUrl,
        advertisementUrl,
        recommendationUrl,
        httpProxy,
        noProxy,
        upstreamTimeout,
        switches);
  }

  /** A copy with other upstream addresses. */
  public WeatherOptions withUpstreams(URI forecast, URI advertisement, URI recommendation) {
    return new WeatherOptions(
        role,
        version,
        bind,
        port,
        grpcPort,
        instance,
        forecast,
        advertisement,
        recommendation,
        httpProxy,
        noProxy,
        upstreamTimeout,
        switches);
  }

  /** A copy whose outbound calls go through {@code proxy} (null: direct). */
  public WeatherOptions withHttpProxy(@Nullable InetSocketAddress proxy, List<String> newNoProxy) {
    return new WeatherOptions(
        role,
        version,
        bind,
        port,
        grpcPort,
        instance,
        forecastUrl,
        advertisementUrl,
        recommendationUrl,
        proxy,
        newNoProxy,
        upstreamTimeout,
        switches);
  }

  /** A copy with other fault switches. */
  public WeatherOptions withSwitches(Switches newSwitches) {
    return new WeatherOptions(
        role,
        version,
        bind,
        port,
        grpcPort,
        instance,
        forecastUrl,
        advertisementUrl,
        recommendationUrl,
        httpProxy,
        noProxy,
        upstreamTimeout,
        newSwitches);
  }

  /** A copy with another upstream timeout. */
  public WeatherOptions withUpstreamTimeout(Duration timeout) {
    return new WeatherOptions(
        role,
        version,
        bind,
        port,
        grpcPort,
        instance,
        forecastUrl,
        advertisementUrl,
        recommendationUrl,
        httpProxy,
        noProxy,
        timeout,
        switches);
  }

  /**
   * Reads options from command-line flags ({@code --name value} or {@code --name=value}), falling
   * back to environment variables, then to defaults.
   *
   * @throws IllegalArgumentException naming the flag, for an unknown flag or a bad value
   */
  public static WeatherOptions parse(List<String> args, Map<String, String> env) {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'; see --help");
      }
      String name;
      String value;
      int eq = arg.indexOf('=');
      if (eq > 0) {
        name = arg.substring(2, eq);
        value = arg.substring(eq + 1);
      } else {
        name = arg.substring(2);
        if (i + 1 >= args.size()) {
          throw new IllegalArgumentException("--" + name + ": missing value");
        }
        value = args.get(++i);
      }
      if (!FLAGS.containsKey(name)) {
        throw new IllegalArgumentException("unknown option '--" + name + "'; see --help");
      }
      flags.put(name, value);
    }
    Lookup in = new Lookup(flags, env);
    String roleName = in.get("role");
    if (roleName == null) {
      throw new IllegalArgumentException("--role: required (or env WEATHER_ROLE)");
    }
    Role role = Role.parse(roleName);
    WeatherOptions d = defaults(role, in.getOr("version", "v1"));
    InetAddress bind = address(in.getOr("bind", "127.0.0.1"));
    int port = integer("port", in.getOr("port", Integer.toString(role.defaultPort())));
    int grpcPort = integer("grpc-port", in.getOr("grpc-port", Integer.toString(d.grpcPort())));
    String proxy = in.get("http-proxy");
    String noProxy = in.get("no-proxy");
    Switches switches;
    try {
      switches =
          new Switches(
              duration("delay", in.getOr("delay", "0")),
              decimal("error-rate", in.getOr("error-rate", "0")),
              integer("error-status", in.getOr("error-status", "503")));
    } catch (IllegalArgumentException e) {
      // Switches names its fields (errorRate); the user typed flags (--error-rate).
      String message = e.getMessage() == null ? "" : e.getMessage();
      throw new IllegalArgumentException(
          message
              .replaceFirst("^errorRate:", "--error-rate:")
              .replaceFirst("^errorStatus:", "--error-status:"),
          e);
    }
    return new WeatherOptions(
        role,
        d.version(),
        bind,
        port,
        role == Role.RECOMMENDATION ? grpcPort : -1,
        in.getOr("instance", ""),
        url("forecast-url", in.get("forecast-url"), DEFAULT_FORECAST_URL),
        url("advertisement-url", in.get("advertisement-url"), DEFAULT_ADVERTISEMENT_URL),
        url("recommendation-url", in.get("recommendation-url"), DEFAULT_RECOMMENDATION_URL),
        proxy == null || proxy.isBlank() ? null : proxyAddress(proxy),
        noProxy == null ? List.of() : splitList(noProxy),
        duration("upstream-timeout", in.getOr("upstream-timeout", "10s")),
        switches);
  }

  /**
   * Parses a duration the way Istio writes them: {@code 250ms}, {@code 2s}, {@code 1m}, {@code 1h};
   * a bare number is seconds.
   */
  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a duration like 500ms or 2s, got '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  /** Flag name to the environment variables read when the flag is absent, first wins. */
  private static final Map<String, List<String>> FLAGS =
      Map.ofEntries(
          Map.entry("role", List.of("WEATHER_ROLE")),
          Map.entry("version", List.of("WEATHER_VERSION")),
          Map.entry("bind", List.of("WEATHER_BIND")),
          Map.entry("port", List.of("WEATHER_PORT")),
          Map.entry("grpc-port", List.of("WEATHER_GRPC_PORT")),
          Map.entry("instance", List.of("WEATHER_INSTANCE")),
          Map.entry("forecast-url", List.of("FORECAST_URL")),
          Map.entry("advertisement-url", List.of("ADVERTISEMENT_URL")),
          Map.entry("recommendation-url", List.of("RECOMMENDATION_URL")),
          Map.entry("http-proxy", List.of("HTTP_PROXY", "http_proxy")),
          Map.entry("no-proxy", List.of("NO_PROXY", "no_proxy")),
          Map.entry("upstream-timeout", List.of("WEATHER_UPSTREAM_TIMEOUT")),
          Map.entry("delay", List.of("WEATHER_DELAY")),
          Map.entry("error-rate", List.of("WEATHER_ERROR_RATE")),
          Map.entry("error-status", List.of("WEATHER_ERROR_STATUS")));

  private record Lookup(Map<String, String> flags, Map<String, String> env) {
    @Nullable String get(String flag) {
      String value = flags.get(flag);
      if (value != null) {
        return value;
      }
      for (String var : FLAGS.getOrDefault(flag, List.of())) {
        String fromEnv = env.get(var);
        if (fromEnv != null && !fromEnv.isBlank()) {
          return fromEnv;
        }
      }
      return null;
    }

    String getOr(String flag, String fallback) {
      String value = get(flag);
      return value == null ? fallback : value;
    }
  }

  private static void checkPort(String flag, int port, boolean allowNone) {
    if (port < (allowNone ? -1 : 0) || port > 65535) {
      throw new IllegalArgumentException(flag + ": must be 0-65535, got " + port);
    }
  }

  private static int integer(String flag, String text) {
    try {
      return Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + flag + ": expected a number, got '" + text + "'");
    }
  }

  private static double decimal(String flag, String text) {
    try {
      return Double.parseDouble(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + flag + ": expected a number, got '" + text + "'");
    }
  }

  private static Duration duration(String flag, String text) {
    try {
      return parseDuration(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + flag + ": " + e.getMessage());
    }
  }

  private static InetAddress address(String text) {
    try {
      return InetAddress.getByName(text.trim());
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("--bind: unknown address '" + text + "'");
    }
  }

  private static URI url(String flag, @Nullable String text, URI fallback) {
    if (text == null) {
      return fallback;
    }
    URI uri;
    try {
      uri = URI.create(text.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--" + flag + ": not a URL: '" + text + "'");
    }
    if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "--" + flag + ": expected http://host:port, got '" + text + "'");
    }
    return uri;
  }

  /** Accepts {@code http://host:port[/]} or {@code host:port}, as HTTP_PROXY is written. */
  static InetSocketAddress proxyAddress(String text) {
    String t = text.trim();
    URI uri = URI.create(t.contains("://") ? t : "http://" + t);
    if (uri.getHost() == null || uri.getPort() < 0 || !"http".equals(uri.getScheme())) {
      throw new IllegalArgumentException(
          "--http-proxy: expected http://host:port, got '" + text + "'");
    }
    return InetSocketAddress.createUnresolved(uri.getHost(), uri.getPort());
  }

  private static List<String> splitList(String text) {
    List<String> out = new ArrayList<>();
    for (String part : text.split(",")) {
      String p = part.trim().toLowerCase(Locale.ROOT);
      if (!p.isEmpty()) {
        out.add(p);
      }
    }
    return out;
  }
}
