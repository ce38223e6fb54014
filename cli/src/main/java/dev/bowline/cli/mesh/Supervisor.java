package dev.bowline.cli.mesh;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts child processes, tells when each is ready, reports each one that exits on its own (one
 * line: what it was, pid, exit code) without touching the others, and on {@link #close()} stops
 * them all: SIGTERM to every child and descendant, SIGKILL to what is left after the grace period.
 */
public final class Supervisor implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Supervisor.class.getName());

  /** Variables a child never inherits from the runner: its proxy is the runner's decision. */
  private static final List<String> NOT_INHERITED =
      List.of("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy");

  private static final java.util.Optional<Path> SETSID =
      java.util.stream.Stream.of("/usr/bin/setsid", "/bin/setsid")
          .map(Path::of)
          .filter(Files::isExecutable)
          .findFirst();

  private final PrintWriter events;
  private final Duration grace;
  private final HttpClient http =
      HttpClient.newBuilder()
          .proxy(HttpClient.Builder.NO_PROXY)
          .connectTimeout(Duration.ofSeconds(1))
          .version(HttpClient.Version.HTTP_1_1)
          .build();
  private final List<Child> children = new CopyOnWriteArrayList<>();
  private volatile boolean closing;

  /**
   * @param events where exits are reported, one line each
   * @param grace how long children get between SIGTERM and SIGKILL
   */
  public Supervisor(PrintWriter events, Duration grace) {
    this.events = Objects.requireNonNull(events, "events");
    this.grace = Objects.requireNonNull(grace, "grace");
  }

  /** How readiness is seen. */
  public sealed interface Probe {
    /** A 2xx answer to {@code GET uri}. */
    record Http(URI uri) implements Probe {}

    /** {@code host:port} accepting a connection. */
    record Tcp(String host, int port) implements Probe {}

    /** Every one of {@code probes}. */
    record All(List<Probe> probes) implements Probe {
      public All {
        probes = List.copyOf(probes);
      }
    }
  }

  /**
   * One child to start.
   *
   * @param what how reports name it, e.g. {@code workload=weather/forecast-v2
   *     instance=forecast-v2-0}
   * @param argv program and arguments
   * @param env environment added to the runner's (minus its proxy variables)
   * @param dir working directory
   * @param log file that receives stdout and stderr
   * @param probe how readiness is seen
   */
  public record Spec(
      String what, List<String> argv, Map<String, String> env, Path dir, Path log, Probe probe) {
    public Spec {
      argv = List.copyOf(argv);
      env = Map.copyOf(env);
    }
  }

  /** The outcome of waiting for a child. */
  public sealed interface Readiness {
    /** It answered its probe. */
    record Ready(Duration after) implements Readiness {}

    /** It exited before it was ready. */
    record Exited(int code) implements Readiness {}

    /** Neither ready nor exited within the timeout. */
    record TimedOut(Duration timeout) implements Readiness {}

    /** It could not even be started (no such program, ...). */
    record NotStarted(String reason) implements Readiness {}
  }

  /** A started child. */
  public static final class Child {
    private final Spec spec;
    private final Process process;
    private final long startNanos = System.nanoTime();
    private volatile boolean stoppedByUs;

    Child(Spec spec, Process process) {
      this.spec = spec;
      this.process = process;
    }

    /** What it is. */
    public Spec spec() {
      return spec;
    }

    /** Its process id. */
    public long pid() {
      return process.pid();
    }

    /** Whether it still runs. */
    public boolean alive() {
      return process.isAlive();
    }

    /** The process, for tests and waiting. */
    public Process process() {
      return process;
    }
  }

  /** Starts {@code spec}; the returned child is supervised until {@link #close()}. */
  public Child start(Spec spec) throws IOException {
    if (closing) {
      throw new IllegalStateException("supervisor is stopping");
    }
    Files.createDirectories(spec.log().toAbsolutePath().getParent());
    List<String> argv = new ArrayList<>();
    // Each child in its own session: a terminal's Ctrl-C (SIGINT to the foreground process group)
    // reaches only the runner, which then stops the children in order. setsid execs in place (the
    // child is no group leader), so the pid is the program's own.
    SETSID.ifPresent(setsid -> argv.add(setsid.toString()));
    argv.addAll(spec.argv());
    ProcessBuilder pb = new ProcessBuilder(argv);
    pb.directory(spec.dir().toFile());
    NOT_INHERITED.forEach(pb.environment()::remove);
    pb.environment().putAll(spec.env());
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(spec.log().toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p = pb.start();
    Child child = new Child(spec, p);
    children.add(child);
    LOG.log(System.Logger.Level.DEBUG, "event=child_started {0} pid={1}", spec.what(), p.pid());
    p.onExit()
        .thenAccept(
            done -> {
              if (!closing) {
                report(
                    "bowline up: exited "
                        + spec.what()
                        + " pid="
                        + done.pid()
                        + " code="
                        + done.exitValue()
                        + " (the rest keep running; log: "
                        + spec.log()
                        + ")");
              }
            });
    return child;
  }

  /** Waits until {@code child} answers its probe, exits, or {@code timeout} passes. */
  public Readiness awaitReady(Child child, Duration timeout) throws InterruptedException {
    long deadline = child.startNanos + timeout.toNanos();
    while (true) {
      if (!child.process.isAlive()) {
        return new Readiness.Exited(child.process.exitValue());
      }
      if (probe(child.spec.probe())) {
        return new Readiness.Ready(Duration.ofNanos(System.nanoTime() - child.startNanos));
      }
      if (System.nanoTime() - deadline > 0) {
        return new Readiness.TimedOut(timeout);
      }
      // The exit future wakes us early when the child dies; otherwise poll every 100 ms.
      try {
        child.process.onExit().get(100, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
        // not exited: probe again
      }
    }
  }

  private boolean probe(Probe probe) {
    return switch (probe) {
      case Probe.Http h -> {
        try {
          HttpResponse<Void> r =
              http.send(
                  HttpRequest.newBuilder(h.uri()).timeout(Duration.ofSeconds(1)).build(),
                  HttpResponse.BodyHandlers.discarding());
          yield r.statusCode() / 100 == 2;
        } catch (IOException e) {
          yield false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          yield false;
        }
      }
      case Probe.All all -> all.probes().stream().allMatch(this::probe);
      case Probe.Tcp t -> {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(t.host(), t.port()), 1000);
          yield true;
        } catch (IOException e) {
          yield false;
        }
      }
    };
  }

  /** Whether {@link #close()} has begun: exits from now on are the supervisor's own doing. */
  public boolean stopping() {
    return closing;
  }

  /** The children started so far. */
  public List<Child> children() {
    return List.copyOf(children);
  }

  /** Every process this supervisor started that still runs, with their descendants. */
  public List<ProcessHandle> liveProcesses() {
    List<ProcessHandle> out = new ArrayList<>();
    for (Child c : children) {
      if (c.process.isAlive()) {
        out.add(c.process.toHandle());
      }
      c.process.descendants().filter(ProcessHandle::isAlive).forEach(out::add);
    }
    return out;
  }

  /**
   * Stops every child: SIGTERM to each child and its descendants (in reverse start order, so apps
   * go before their sidecars and the control plane), then SIGKILL to whatever is still alive after
   * the grace period. Returns when none is left.
   */
  @Override
  public void close() {
    closing = true;
    List<ProcessHandle> all = new ArrayList<>();
    List<Child> reversed = new ArrayList<>(children);
    java.util.Collections.reverse(reversed);
    for (Child c : reversed) {
      c.process.descendants().forEach(all::add); // before the parent dies and they are re-parented
      all.add(c.process.toHandle());
    }
    for (Child c : reversed) {
      c.stoppedByUs = c.process.isAlive();
    }
    all.forEach(ProcessHandle::destroy);
    // The children's own Process futures too: a Process learns its exit value from its own reaper,
    // which can lag the handle's, and the report below reads it.
    CompletableFuture<?>[] exits =
        java.util.stream.Stream.concat(
                all.stream().map(ProcessHandle::onExit),
                reversed.stream().map(c -> c.process.onExit()))
            .toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(exits).get(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      List<ProcessHandle> left = all.stream().filter(ProcessHandle::isAlive).toList();
      left.forEach(h -> report("bowline up: pid=" + h.pid() + " ignored SIGTERM; killing it"));
      left.forEach(ProcessHandle::destroyForcibly);
      try {
        CompletableFuture.allOf(exits).get(5, TimeUnit.SECONDS);
      } catch (Exception again) {
        report("bowline up: some processes did not die: " + again);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      all.forEach(ProcessHandle::destroyForcibly);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e);
    }
    for (Child c : reversed) {
      if (!c.process.isAlive() && c.stoppedByUs) {
        report(
            "bowline up: stopped "
                + c.spec.what()
                + " pid="
                + c.process.pid()
                + " code="
                + c.process.exitValue());
      }
    }
  }

  private void report(String line) {
    synchronized (events) {
      events.println(line);
      events.flush();
    }
  }
}
