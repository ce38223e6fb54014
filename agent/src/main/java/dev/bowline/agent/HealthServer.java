package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The agent's readiness endpoint, with Istio's path and port semantics: {@code GET /healthz/ready}
 * on :15021 answers 200 when every check passes and 503 naming the failing checks otherwise. The
 * runner (or a Kubernetes readinessProbe) polls it; the proxy adds its own check when it runs in
 * the same process.
 */
public final class HealthServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HealthServer.class.getName());

  /** Istio's status port. */
  public static final int ISTIO_PORT = 15021;

  /** Istio's readiness path. */
  public static final String READY_PATH = "/healthz/ready";

  /**
   * One named condition for readiness.
   *
   * @param name shown in the 503 body when the check fails
   * @param passing called per request; must be quick and thread-safe
   */
  public record Check(String name, BooleanSupplier passing) {
    public Check {
      requireNonNull(name, "name");
      requireNonNull(passing, "passing");
    }
  }

  private final HttpServer server;

  private HealthServer(HttpServer server) {
    this.server = server;
  }

  /** The check that the agent holds a certificate that has not expired. */
  public static Check certificate(CertificateManager manager) {
    return new Check("workload certificate", manager::hasValidCertificate);
  }

  /**
   * Listens on {@code address} (port 0 picks one).
   *
   * @throws UncheckedIOException naming the address when it cannot be bound
   */
  public static HealthServer start(InetSocketAddress address, List<Check> checks) {
    List<Check> all = List.copyOf(checks);
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen for health checks on " + address + ": " + e, e);
    }
    server.createContext(READY_PATH, exchange -> ready(exchange, all));
    server.start();
    LOG.log(Level.INFO, "event=health_server_started address={0}", server.getAddress());
    return new HealthServer(server);
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  private static void ready(HttpExchange exchange, List<Check> checks) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getPath().equals(READY_PATH)) {
        reply(exchange, 404, "not found\n");
        return;
      }
      if (!exchange.getRequestMethod().equals("GET")
          && !exchange.getRequestMethod().equals("HEAD")) {
        reply(exchange, 405, "method not allowed\n");
        return;
      }
      List<String> failing = new ArrayList<>();
      for (Check c : checks) {
        boolean ok;
        try {
          ok = c.passing().getAsBoolean();
        } catch (RuntimeException e) {
          ok = false;
        }
        if (!ok) {
          failing.add(c.name());
        }
      }
      if (failing.isEmpty()) {
        reply(exchange, 200, "ready\n");
      } else {
        reply(exchange, 503, "not ready: " + String.join(", ", failing) + "\n");
      }
    }
  }

  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Stops listening at once. */
  @Override
  public void close() {
    server.stop(0);
  }
}
