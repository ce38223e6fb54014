package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One running instance of the Weather Forecast app in one role. Start it in this JVM (the local
 * mesh runner does) or as a process with {@link WeatherMain}; many instances can share a JVM.
 *
 * <pre>{@code
 * try (WeatherApp forecast = WeatherApp.start(WeatherOptions.defaults(Role.FORECAST, "v2"))) {
 *   URI uri = forecast.uri(); // http://127.0.0.1:3002
 * }
 * }</pre>
 */
public final class WeatherApp implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(WeatherApp.class.getName());

  private final WeatherOptions options;
  private final Identity identity;
  private final WeatherServer server;
  private final Upstream upstream;
  private final ExecutorService executor;
  private final @Nullable RecommendationGrpc grpc;

  private WeatherApp(
      WeatherOptions options,
      Identity identity,
      WeatherServer server,
      Upstream upstream,
      ExecutorService executor,
      @Nullable RecommendationGrpc grpc) {
    this.options = options;
    this.identity = identity;
    this.server = server;
    this.upstream = upstream;
    this.executor = executor;
    this.grpc = grpc;
  }

  /**
   * Binds the ports and starts serving.
   *
   * @throws IOException when a port cannot be bound; the message names the role and address
   */
  public static WeatherApp start(WeatherOptions options) throws IOException {
    return start(options, Clock.systemUTC(), () -> ThreadLocalRandom.current().nextDouble());
  }

  static WeatherApp start(WeatherOptions options, Clock clock, DoubleSupplier random)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    Upstream upstream = null;
    WeatherServer server = null;
    RecommendationGrpc grpc = null;
    try {
      InetSocketAddress listen = new InetSocketAddress(options.bind(), options.port());
      try {
        server = new WeatherServer(listen, executor, json, clock, random, options.switches());
      } catch (IOException e) {
        throw new IOException(
            options.role().serviceName()
                + " "
                + options.version()
                + ": cannot listen on "
                + listen.getAddress().getHostAddress()
                + ":"
                + options.port()
                + " ("
                + e.getMessage()
                + ")",
            e);
      }
      WeatherServer http = server;
      InetSocketAddress bound = http.address();
      String instance =
          options.instance().isBlank()
              ? options.role().serviceName()
                  + "-"
                  + options.version()
                  + "@"
                  + bound.getAddress().getHostAddress()
                  + ":"
                  + bound.getPort()
              : options.instance();
      Identity identity = new Identity(options.role().serviceName(), options.version(), instance);
      upstream =
          new Upstream(
              options.httpProxy(), options.noProxy(), options.upstreamTimeout(), json, executor);
      Map<String, Integer> ports = new LinkedHashMap<>();
      ports.put(options.role().portName(), bound.getPort());
      if (options.role() == Role.RECOMMENDATION && options.grpcPort() >= 0) {
        RecommendationGrpc g =
            RecommendationGrpc.start(
                new InetSocketAddress(options.bind(), options.grpcPort()),
                identity,
                executor,
                http::switches,
                random);
        grpc = g;
        ports.put(RecommendationGrpc.PORT_NAME, g.port());
      }
      Endpoints endpoints =
          switch (options.role()) {
            case FRONTEND ->
                new Frontend(
                    identity,
                    upstream,
                    options.forecastUrl(),
                    options.advertisementUrl(),
                    json,
                    page());
            case FORECAST ->
                new Forecast(identity, upstream, options.recommendationUrl(), json, clock);
            case ADVERTISEMENT -> new Advertisement(identity, json);
            case RECOMMENDATION -> new Recommendation(identity, json);
          };
      server.start(identity, ports, endpoints);
      LOG.log(
          Level.INFO,
          "weather started service={0} version={1} instance={2} ports={3} proxy={4}",
          identity.service(),
          identity.version(),
          identity.instance(),
          ports,
          options.httpProxy() == null ? "none" : options.httpProxy());
      return new WeatherApp(options, identity, server, upstream, executor, grpc);
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        server.stop();
      }
      if (grpc != null) {
        grpc.close();
      }
      if (upstream != null) {
        upstream.close();
      }
      executor.close();
      throw e;
    }
  }

  private static String page() {
    try (InputStream in = WeatherApp.class.getResourceAsStream("index.html")) {
      if (in == null) {
        throw new IllegalStateException("index.html missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The options this instance started with. */
  public WeatherOptions options() {
    return options;
  }

  /** The HTTP address actually bound (the port is known even when 0 was asked). */
  public InetSocketAddress address() {
    return server.address();
  }

  /** {@code http://address:port}, for direct calls. */
  public URI uri() {
    InetSocketAddress a = address();
    String host = a.getAddress().getHostAddress();
    return URI.create(
        "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort());
  }

  /** The gRPC port actually bound (recommendation only), or -1 when there is none. */
  public int grpcPort() {
    return grpc == null ? -1 : grpc.port();
  }

  /** The instance name reported in {@code x-weather-instance}. */
  public String instance() {
    return identity.instance();
  }

  /** The fault switches in force. */
  public Switches switches() {
    return server.switches();
  }

  /** Changes the fault switches; requests that arrive afterwards see them. */
  public void switches(Switches next) {
    server.switches(next);
  }

  /** Stops serving at once and frees the ports. */
  @Override
  public void close() {
    server.stop();
    if (grpc != null) {
      grpc.close();
    }
    upstream.close();
    executor.shutdownNow();
    LOG.log(Level.INFO, "weather stopped instance={0}", identity.instance());
  }
}
