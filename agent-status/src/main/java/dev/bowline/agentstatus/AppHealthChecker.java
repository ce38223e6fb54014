package dev.bowline.agentstatus;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Istio's application health checking for VMs (the WorkloadGroup's {@code probe}, run by
 * pilot-agent): probes the app every {@code period} and, when its state changes, tells {@code
 * report} — null once healthy, the failure once unhealthy. The first result is always reported. The
 * proxy then sends it to the control plane on its xDS stream ({@code
 * type.googleapis.com/istio.v1.HealthInformation}), which marks the workload's endpoints.
 *
 * <p>As Kubernetes probes: {@code successThreshold} consecutive successes make it healthy, {@code
 * failureThreshold} consecutive failures unhealthy; an HTTP probe succeeds on a status in [200,
 * 400).
 */
public final class AppHealthChecker implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AppHealthChecker.class.getName());

  /** The xDS request type an agent reports its app's health with (Istio's health check event). */
  public static final String HEALTH_INFORMATION_TYPE =
      "type.googleapis.com/istio.v1.HealthInformation";

  /** What to probe: istio/api's {@code ReadinessProbe} {@code httpGet} or {@code tcpSocket}. */
  public sealed interface Probe {
    /**
     * A probe from its URL: {@code http://host:port/path} (httpGet) or {@code tcp://host:port}
     * (tcpSocket).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    static Probe parse(String url) {
      java.net.URI u;
      try {
        u = new java.net.URI(url);
      } catch (java.net.URISyntaxException e) {
        throw new IllegalArgumentException("not a URL: " + url + ": " + e.getMessage(), e);
      }
      if (u.getHost() == null || u.getPort() < 1) {
        throw new IllegalArgumentException(
            "want http://HOST:PORT/PATH or tcp://HOST:PORT with an explicit port, got " + url);
      }
      String scheme = u.getScheme() == null ? "" : u.getScheme();
      return switch (scheme) {
        case "http" ->
            new HttpGet(
                u.getHost(),
                u.getPort(),
                u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath());
        case "tcp" -> new TcpSocket(u.getHost(), u.getPort());
        default ->
            throw new IllegalArgumentException(
                "scheme must be http or tcp (httpGet or tcpSocket), got '"
                    + scheme
                    + "' in "
                    + url);
      };
    }

    /** {@code GET http://host:port/path}. */
    record HttpGet(String host, int port, String path) implements Probe {
      public HttpGet {
        requireNonNull(host, "host");
        path = path.startsWith("/") ? path : "/" + path;
      }
    }

    /** A TCP connection to {@code host:port}. */
    record TcpSocket(String host, int port) implements Probe {
      public TcpSocket {
        requireNonNull(host, "host");
      }
    }
  }

  /**
   * The probe's timing, istio/api's {@code ReadinessProbe} fields.
   *
   * @param initialDelay before the first probe
   * @param period between probes
   * @param timeout of one probe
   * @param successThreshold consecutive successes to become healthy
   * @param failureThreshold consecutive failures to become unhealthy
   */
  public record Settings(
      Duration initialDelay,
      Duration period,
      Duration timeout,
      int successThreshold,
      int failureThreshold) {
    /** Istio's (Kubernetes') defaults: every 10 s, 1 s timeout, thresholds 1 and 3. */
    public static final Settings DEFAULTS =
        new Settings(Duration.ZERO, Duration.ofSeconds(10), Duration.ofSeconds(1), 1, 3);

    public Settings {
      if (period.isNegative() || period.isZero()) {
        throw new IllegalArgumentException("probe.periodSeconds: must be > 0");
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("probe.timeoutSeconds: must be > 0");
      }
      if (successThreshold < 1) {
        throw new IllegalArgumentException("probe.successThreshold: must be >= 1");
      }
      if (failureThreshold < 1) {
        throw new IllegalArgumentException("probe.failureThreshold: must be >= 1");
      }
    }
  }

  private final Probe probe;
  private final Settings settings;
  private final Scheduler scheduler;
  private final Consumer<@Nullable String> report;
  private final Object lock = new Object();
  private int successes;
  private int failures;
  private @Nullable Boolean healthy;
  private Scheduler.@Nullable Cancellable next;
  private boolean closed;

  private AppHealthChecker(
      Probe probe, Settings settings, Scheduler scheduler, Consumer<@Nullable String> report) {
    this.probe = requireNonNull(probe, "probe");
    this.settings = requireNonNull(settings, "settings");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.report = requireNonNull(report, "report");
  }

  /**
   * Starts probing on {@code scheduler} (whose tasks may block for up to the probe's timeout).
   *
   * @param report told null when the app becomes healthy, the failure when it becomes unhealthy
   */
  public static AppHealthChecker start(
      Probe probe, Settings settings, Scheduler scheduler, Consumer<@Nullable String> report) {
    AppHealthChecker c = new AppHealthChecker(probe, settings, scheduler, report);
    synchronized (c.lock) {
      c.next = scheduler.schedule(c::run, settings.initialDelay());
    }
    return c;
  }

  private void run() {
    String failure = check();
    String change = null;
    boolean changed = false;
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (failure == null) {
        failures = 0;
        successes++;
        if (!Boolean.TRUE.equals(healthy) && successes >= settings.successThreshold()) {
          healthy = true;
          changed = true;
        }
      } else {
        successes = 0;
        failures++;
        if (!Boolean.FALSE.equals(healthy) && failures >= settings.failureThreshold()) {
          healthy = false;
          changed = true;
          change = failure;
        }
      }
      next = scheduler.schedule(this::run, settings.period());
    }
    if (changed) {
      LOG.log(
          System.Logger.Level.INFO,
          "event=app_health healthy={0}{1}",
          change == null,
          change == null ? "" : " reason=\"" + change + "\"");
      report.accept(change);
    }
  }

  /** One probe: null when it passed, else why not. */
  private @Nullable String check() {
    int timeout = (int) Math.max(1, settings.timeout().toMillis());
    return switch (probe) {
      case Probe.TcpSocket t -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(t.host(), t.port()), timeout);
          yield null;
        } catch (IOException e) {
          yield "tcp probe " + t.host() + ":" + t.port() + " failed: " + e.getMessage();
        }
      }
      case Probe.HttpGet h -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(h.host(), h.port()), timeout);
          s.setSoTimeout(timeout);
          s.getOutputStream()
              .write(
                  ("GET "
                          + h.path()
                          + " HTTP/1.1\r\nhost: "
                          + h.host()
                          + ":"
                          + h.port()
                          + "\r\nuser-agent: bowline-agent-prober\r\nconnection: close\r\n\r\n")
                      .getBytes(StandardCharsets.US_ASCII));
          int status = status(s.getInputStream());
          yield status >= 200 && status < 400
              ? null
              : "http probe " + h.path() + " returned " + status;
        } catch (IOException e) {
          yield "http probe " + h.host() + ":" + h.port() + h.path() + " failed: " + e.getMessage();
        }
      }
    };
  }

  /** The status code of the response's first line; -1 when it is not HTTP. */
  private static int status(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != -1 && c != '\n' && line.length() < 200) {
      line.append((char) c);
    }
    String[] parts = line.toString().trim().split(" ");
    if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Stops probing; a probe under way finishes without reporting. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (next != null) {
        next.cancel();
      }
    }
  }
}
