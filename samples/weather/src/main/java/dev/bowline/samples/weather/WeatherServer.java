package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.DoubleSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP server around a role's {@link Endpoints}, in request order: identity headers on every
 * answer; {@code /health} and {@code /admin/*} answered directly; then the request is logged, the
 * fault switches applied (delay, then maybe an error status), and the role answers.
 */
final class WeatherServer {

  private static final System.Logger LOG = System.getLogger(WeatherServer.class.getName());

  private final HttpServer server;
  private final ObjectMapper json;
  private final Clock clock;
  private final DoubleSupplier random;
  private final AtomicReference<Switches> switches;
  private final RequestLog requestLog = new RequestLog(100);
  private volatile Identity identity = new Identity("", "", "");
  private volatile Map<String, Integer> ports = Map.of();
  private volatile Endpoints endpoints = request -> null;
  private volatile boolean started;

  /** Binds at once (so a busy port fails here); serves nothing until {@link #start}. */
  WeatherServer(
      InetSocketAddress address,
      Executor executor,
      ObjectMapper json,
      Clock clock,
      DoubleSupplier random,
      Switches initial)
      throws IOException {
    this.server = HttpServer.create(address, 128);
    this.server.setExecutor(executor);
    this.json = json;
    this.clock = clock;
    this.random = random;
    this.switches = new AtomicReference<>(initial);
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  void start(Identity id, Map<String, Integer> portsByName, Endpoints roleEndpoints) {
    this.identity = id;
    this.ports = Map.copyOf(portsByName);
    this.endpoints = roleEndpoints;
    server.createContext("/", this::serve);
    server.start();
    started = true;
  }

  void stop() {
    if (!started) {
      // The JDK server closes its listening socket on its dispatcher thread: without a start the
      // port would stay bound (e.g. after the gRPC port of the same app failed to bind).
      server.start();
      started = true;
    }
    server.stop(0);
  }

  Switches switches() {
    return switches.get();
  }

  void switches(Switches next) {
    switches.set(next);
  }

  private void serve(HttpExchange exchange) {
    long started = System.nanoTime();
    try (exchange) {
      var uri = exchange.getRequestURI();
      String host = exchange.getRequestHeaders().getFirst("host");
      Request request =
          new Request(
              exchange.getRequestMethod(),
              uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath(),
              Request.parseQuery(uri.getRawQuery()),
              host == null ? "" : host,
              Propagation.select(exchange.getRequestHeaders()));
      Response response = respond(request, uri.getRawPath(), uri.getRawQuery());
      send(exchange, request.method(), response);
      if (LOG.isLoggable(Level.DEBUG)) {
        LOG.log(
            Level.DEBUG,
            "request service={0} method={1} path={2} status={3} micros={4}",
            identity.service(),
            request.method(),
            request.path(),
            response.status(),
            (System.nanoTime() - started) / 1000);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "response not sent service={0} error={1}", identity.service(), e);
    }
  }

  private Response respond(Request request, String rawPath, @Nullable String rawQuery) {
    try {
      if (request.path().equals("/health")) {
        return health();
      }
      if (request.path().startsWith("/admin/")) {
        return admin(request);
      }
      requestLog.add(
          new RequestLog.Seen(
              clock.instant(),
              request.method(),
              rawQuery == null ? rawPath : rawPath + "?" + rawQuery,
              request.host(),
              request.propagated()));
      if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
        return error(405, "method " + request.method() + " not allowed; use GET");
      }
      Switches now = switches.get();
      if (!now.delay().isZero()) {
        Thread.sleep(now.delay());
      }
      if (now.errorRate() > 0 && random.getAsDouble() < now.errorRate()) {
        return error(now.errorStatus(), "fault injected by the app's error-rate switch");
      }
      Response response = endpoints.handle(request);
      return response != null ? response : error(404, "no such path: " + request.path());
    } catch (IllegalArgumentException e) {
      return error(400, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return error(503, "interrupted");
    } catch (Exception e) {
      LOG.log(
          Level.WARNING,
          "request failed service={0} path={1} error={2}",
          identity.service(),
          request.path(),
          e.toString());
      return error(500, e.toString());
    }
  }

  private Response health() throws IOException {
    ObjectNode out = json.createObjectNode().put("status", "UP");
    out.setAll((ObjectNode) json.valueToTree(identity));
    ObjectNode p = out.putObject("ports");
    ports.forEach(p::put);
    return Response.json(200, json.writeValueAsBytes(out));
  }

  private Response admin(Request request) throws IOException {
    switch (request.path()) {
      case "/admin/switches" -> {
        if (request.method().equals("POST") || request.method().equals("PUT")) {
          switches.set(update(switches.get(), request));
          LOG.log(Level.INFO, "switches service={0} now={1}", identity.service(), switches.get());
        }
        return Response.json(200, json.writeValueAsBytes(describe(switches.get())));
      }
      case "/admin/requests" -> {
        ObjectNode out = json.createObjectNode();
        out.setAll((ObjectNode) json.valueToTree(identity));
        out.put("total", requestLog.total());
        var recent = out.putArray("recent");
        for (RequestLog.Seen seen : requestLog.recent()) {
          ObjectNode s = recent.addObject();
          s.put("at", seen.at().toString());
          s.put("method", seen.method());
          s.put("target", seen.target());
          s.put("host", seen.host());
          ObjectNode headers = s.putObject("headers");
          Map<String, String> joined = new LinkedHashMap<>();
          for (var h : seen.headers()) {
            joined.merge(h.getKey(), h.getValue(), (a, b) -> a + ", " + b);
          }
          joined.forEach(headers::put);
        }
        return Response.json(200, json.writeValueAsBytes(out));
      }
      default -> {
        return error(404, "no such admin path: " + request.path());
      }
    }
  }

  private static Switches update(Switches current, Request request) {
    Switches next = current;
    String delay = request.param("delay");
    if (delay != null) {
      try {
        next = next.withDelay(WeatherOptions.parseDuration(delay));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("delay: " + e.getMessage(), e);
      }
    }
    String errorRate = request.param("errorRate");
    if (errorRate != null) {
      try {
        next = next.withErrorRate(Double.parseDouble(errorRate));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("errorRate: expected a number, got '" + errorRate + "'");
      }
    }
    String errorStatus = request.param("errorStatus");
    if (errorStatus != null) {
      try {
        next = next.withErrorStatus(Integer.parseInt(errorStatus));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "errorStatus: expected a number, got '" + errorStatus + "'");
      }
    }
    return next;
  }

  private ObjectNode describe(Switches s) {
    ObjectNode out = json.createObjectNode();
    out.setAll((ObjectNode) json.valueToTree(identity));
    out.put("delay", format(s.delay()));
    out.put("errorRate", s.errorRate());
    out.put("errorStatus", s.errorStatus());
    return out;
  }

  private static String format(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private Response error(int status, String message) {
    ObjectNode out = json.createObjectNode().put("error", message).put("status", status);
    out.setAll((ObjectNode) json.valueToTree(identity));
    try {
      return Response.json(status, json.writeValueAsBytes(out));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void send(HttpExchange exchange, String method, Response response) throws IOException {
    var headers = exchange.getResponseHeaders();
    headers.set("content-type", response.contentType());
    headers.set("cache-control", "no-store");
    headers.set("x-weather-service", identity.service());
    headers.set("x-weather-version", identity.version());
    headers.set("x-weather-instance", identity.instance());
    if (method.equals("HEAD")) {
      exchange.sendResponseHeaders(response.status(), -1);
      return;
    }
    byte[] body = response.body();
    exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
