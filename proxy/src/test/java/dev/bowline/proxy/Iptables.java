package dev.bowline.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * NAT rules a test adds to the machine's {@code iptables} (the capture Istio's sidecars use): each
 * redirects the test's own connections, from one source address to one destination address and
 * port, to a proxy port ({@code REDIRECT}, so they arrive on {@code 127.0.0.1} with {@code
 * SO_ORIGINAL_DST} set to where they were going). Only rules naming the test's addresses, never a
 * global one; all removed by {@link #close} and, should the JVM end first, by a shutdown hook.
 * Needs root and the {@code iptables} command (Debian package {@code iptables}).
 */
final class Iptables implements AutoCloseable {
  private final List<List<String>> rules = new ArrayList<>();
  private final Thread hook = new Thread(this::removeAll, "iptables-cleanup");

  private Iptables() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * A rule set, or a failure saying what is missing: the tests that need it prove the capture with
   * the kernel's real NAT, which a machine without root or {@code iptables} cannot give them.
   */
  static Iptables open() {
    String why = usable();
    if (why != null) {
      throw new IllegalStateException(
          "this test needs iptables NAT (root and the 'iptables' command, Debian package"
              + " 'iptables'; .ci/run installs it): "
              + why);
    }
    return new Iptables();
  }

  private static String usable() {
    try {
      Result r = run(List.of("iptables", "-t", "nat", "-S", "OUTPUT"));
      return r.code == 0 ? null : "'iptables -t nat -S OUTPUT' failed: " + r.output;
    } catch (IOException e) {
      return "cannot run iptables: " + e.getMessage();
    }
  }

  /**
   * Redirects TCP connections from {@code sourceIp} to {@code destIp:destPort} to local port {@code
   * toPort}.
   */
  synchronized void redirect(String sourceIp, String destIp, int destPort, int toPort)
      throws IOException {
    List<String> spec =
        List.of(
            "OUTPUT",
            "-p",
            "tcp",
            "-s",
            sourceIp,
            "-d",
            destIp,
            "--dport",
            Integer.toString(destPort),
            "-j",
            "REDIRECT",
            "--to-ports",
            Integer.toString(toPort));
    List<String> add = new ArrayList<>(List.of("iptables", "-t", "nat", "-I"));
    add.addAll(spec);
    Result r = run(add);
    if (r.code != 0) {
      throw new IOException("iptables " + String.join(" ", spec) + " failed: " + r.output);
    }
    rules.add(spec);
  }

  private synchronized void removeAll() {
    for (List<String> spec : rules) {
      List<String> del = new ArrayList<>(List.of("iptables", "-t", "nat", "-D"));
      del.addAll(spec);
      try {
        run(del);
      } catch (IOException e) {
        // nothing more to do; the next run's rules name the same addresses only
      }
    }
    rules.clear();
  }

  @Override
  public void close() {
    removeAll();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: the hook runs (and finds nothing left)
    }
  }

  private record Result(int code, String output) {}

  private static Result run(List<String> command) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out");
      }
      return new Result(
          p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
