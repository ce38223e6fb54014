package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import dev.bowline.agentstatus.Scheduler;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * One workload's agent as the runner starts it: certificate manager, SDS server on a Unix socket
 * and, optionally, the readiness endpoint, on the real clock with one daemon scheduler thread.
 * {@link #start} returns at once; the proxy may connect to the socket before the first certificate
 * arrives (its request is answered then).
 */
public final class WorkloadAgent implements AutoCloseable {
  private final ScheduledExecutorService executor;
  private final CertificateManager certificates;
  private final SdsServer sds;
  private final @Nullable HealthServer health;

  private WorkloadAgent(
      ScheduledExecutorService executor,
      CertificateManager certificates,
      SdsServer sds,
      @Nullable HealthServer health) {
    this.executor = executor;
    this.certificates = certificates;
    this.sds = sds;
    this.health = health;
  }

  /**
   * Starts the agent.
   *
   * @param sdsSocket where to serve SDS (Istio: {@code
   *     ./var/run/secrets/workload-spiffe-uds/socket})
   * @param healthAddress where to answer {@code /healthz/ready} (Istio: port 15021), or null for
   *     none
   * @param extraChecks more readiness checks (e.g. the proxy's own), besides the certificate
   */
  public static WorkloadAgent start(
      AgentConfig config,
      Path sdsSocket,
      @Nullable InetSocketAddress healthAddress,
      List<HealthServer.Check> extraChecks) {
    requireNonNull(config, "config");
    requireNonNull(sdsSocket, "sdsSocket");
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bowline-agent-" + config.identity().serviceAccount());
              t.setDaemon(true);
              return t;
            });
    Clock clock = Clock.systemUTC();
    CertificateManager certificates =
        new CertificateManager(config, clock, Scheduler.of(executor), new SecureRandom());
    SdsServer sds = null;
    HealthServer health = null;
    try {
      sds = SdsServer.start(certificates, sdsSocket, clock);
      if (healthAddress != null) {
        List<HealthServer.Check> checks = new ArrayList<>();
        checks.add(HealthServer.certificate(certificates));
        checks.addAll(extraChecks);
        health = HealthServer.start(healthAddress, checks);
      }
    } catch (RuntimeException e) {
      if (sds != null) {
        sds.close();
      }
      executor.shutdownNow();
      throw e;
    }
    certificates.start();
    return new WorkloadAgent(executor, certificates, sds, health);
  }

  /** The certificate manager (current certificate, first-certificate future). */
  public CertificateManager certificates() {
    return certificates;
  }

  /** The SDS socket path. */
  public Path sdsSocket() {
    return sds.socket();
  }

  /** The readiness port, when started with one. */
  public Optional<Integer> healthPort() {
    return health == null ? Optional.empty() : Optional.of(health.port());
  }

  /** Stops rotation, closes SDS streams and the socket, and the readiness endpoint. */
  @Override
  public void close() {
    certificates.close();
    if (health != null) {
      health.close();
    }
    sds.close();
    executor.shutdownNow();
  }
}
