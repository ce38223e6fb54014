package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import dev.bowline.agentstatus.Scheduler;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Keeps one workload's certificate: generates a key, sends a CSR for the workload's SPIFFE ID,
 * validates the answer, and rotates at {@link AgentConfig#rotationFraction()} of the lifetime (less
 * a random jitter). Renewal presents the current certificate as client certificate and falls back
 * to the token. When the CA fails or answers something invalid, it retries with exponential backoff
 * and keeps serving the current certificate meanwhile; a bad answer never replaces a good
 * certificate.
 *
 * <p>All work runs as tasks on the injected {@link Scheduler}, one at a time (each task schedules
 * the next), so the state has one writer.
 */
public final class CertificateManager implements CertificateSource, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CertificateManager.class.getName());

  private final AgentConfig config;
  private final CaClient ca;
  private final Clock clock;
  private final Scheduler scheduler;
  private final SecureRandom random;
  private final AtomicReference<@Nullable WorkloadCertificate> current = new AtomicReference<>();
  private final List<Consumer<WorkloadCertificate>> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<WorkloadCertificate> first = new CompletableFuture<>();
  private final Object lock = new Object();
  private Scheduler.@Nullable Cancellable next;
  private boolean closed;
  private int failures;

  /**
   * A manager that does nothing until {@link #start()}.
   *
   * @param clock the time for validity checks and rotation
   * @param scheduler runs the requests and the rotation timer
   * @param random for keys and jitter
   */
  public CertificateManager(
      AgentConfig config, Clock clock, Scheduler scheduler, SecureRandom random) {
    this.config = requireNonNull(config, "config");
    this.clock = requireNonNull(clock, "clock");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.random = requireNonNull(random, "random");
    this.ca = new CaClient(config);
  }

  /** Asks for the first certificate now (on the scheduler); see {@link #firstCertificate()}. */
  public void start() {
    scheduleIn(Duration.ZERO);
  }

  /** Completes with the first valid certificate. */
  public CompletableFuture<WorkloadCertificate> firstCertificate() {
    return first.copy();
  }

  @Override
  public Optional<WorkloadCertificate> current() {
    return Optional.ofNullable(current.get());
  }

  @Override
  public void subscribe(Consumer<WorkloadCertificate> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  /** True while the agent holds a certificate that has not expired. */
  public boolean hasValidCertificate() {
    WorkloadCertificate c = current.get();
    return c != null && c.notAfter().isAfter(clock.instant());
  }

  /** Stops rotating; the current certificate stays readable. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (next != null) {
        next.cancel();
        next = null;
      }
    }
  }

  private void scheduleIn(Duration delay) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      next = scheduler.schedule(this::refresh, delay);
    }
  }

  private void refresh() {
    synchronized (lock) {
      if (closed) {
        return;
      }
    }
    WorkloadCertificate old = current.get();
    WorkloadCertificate fresh;
    try {
      fresh = fetch(old);
    } catch (CaClient.CallFailedException | CertificateRejectedException e) {
      failures++;
      Duration retry = backoff(failures);
      String reason =
          e instanceof CertificateRejectedException
              ? "CA answer rejected: " + e.getMessage()
              : e.getMessage();
      LOG.log(
          Level.WARNING,
          "event=certificate_request_failed identity={0} attempt={1} retry_in={2}"
              + " serving={3} reason=\"{4}\"",
          config.identity(),
          failures,
          retry,
          old == null ? "none" : old.serial() + " until " + old.notAfter(),
          reason);
      if (old != null && !old.notAfter().isAfter(clock.instant())) {
        LOG.log(
            Level.ERROR,
            "event=certificate_expired identity={0} serial={1} not_after={2}",
            config.identity(),
            old.serial(),
            old.notAfter());
      }
      scheduleIn(retry);
      return;
    }
    failures = 0;
    current.set(fresh);
    Instant rotateAt = rotationTime(fresh);
    LOG.log(
        Level.INFO,
        "event=certificate_issued identity={0} serial={1} not_after={2} rotate_at={3} renewal={4}",
        config.identity(),
        fresh.serial(),
        fresh.notAfter(),
        rotateAt,
        old != null);
    for (Consumer<WorkloadCertificate> l : listeners) {
      try {
        l.accept(fresh);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "event=certificate_listener_failed error=\"{0}\"", e.toString());
      }
    }
    first.complete(fresh);
    scheduleIn(Duration.between(clock.instant(), rotateAt));
  }

  private WorkloadCertificate fetch(@Nullable WorkloadCertificate old)
      throws CaClient.CallFailedException, CertificateRejectedException {
    KeyPair key = Csr.keyPair(config.keyAlgorithm(), random);
    String csr = Csr.pem(key, config.identity());
    Set<X509Certificate> trusted = new LinkedHashSet<>();
    try {
      trusted.addAll(config.caTrust().roots());
    } catch (IOException e) {
      if (old == null) {
        throw new CaClient.CallFailedException("cannot read the CA's roots: " + e.getMessage(), e);
      }
      LOG.log(
          Level.WARNING,
          "event=ca_roots_unreadable identity={0} error=\"{1}\" using=current_bundle",
          config.identity(),
          e.getMessage());
    }
    if (old != null) {
      trusted.addAll(old.bundle().roots());
    }
    List<String> answer;
    if (old != null && old.notAfter().isAfter(clock.instant())) {
      try {
        answer = ca.createCertificate(csr, trusted, old);
      } catch (CaClient.CallFailedException withCertificate) {
        try {
          answer = ca.createCertificate(csr, trusted, null);
        } catch (CaClient.CallFailedException withToken) {
          withToken.addSuppressed(withCertificate);
          throw new CaClient.CallFailedException(
              withCertificate.getMessage() + "; then " + withToken.getMessage(), withToken);
        }
      }
    } else {
      answer = ca.createCertificate(csr, trusted, null);
    }
    return ChainValidator.validate(answer, key, config.identity(), trusted, clock.instant());
  }

  /** Receipt + lifetime x (fraction - jitter), jitter uniform in [0, jitterFraction). */
  private Instant rotationTime(WorkloadCertificate c) {
    Duration lifetime = Duration.between(c.receivedAt(), c.notAfter());
    double fraction = config.rotationFraction() - config.jitterFraction() * random.nextDouble();
    return c.receivedAt().plusMillis((long) (lifetime.toMillis() * fraction));
  }

  /** retryInitial x 2^(n-1), capped at retryMax, then 50-100% of that at random. */
  private Duration backoff(int failures) {
    long initial = config.retryInitial().toMillis();
    long max = config.retryMax().toMillis();
    long base = initial << Math.min(failures - 1, 30);
    if (base <= 0 || base > max) {
      base = max;
    }
    return Duration.ofMillis(base / 2 + (long) (random.nextDouble() * (base - base / 2)));
  }
}
