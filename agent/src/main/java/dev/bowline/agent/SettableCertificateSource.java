package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CertificateSource} set by hand: for proxy tests that need an SDS server without a CA
 * (start {@link SdsServer} on it, then {@link #set} to rotate), and for certificates from files.
 */
public final class SettableCertificateSource implements CertificateSource {
  private final AtomicReference<@Nullable WorkloadCertificate> current = new AtomicReference<>();
  private final List<Consumer<WorkloadCertificate>> listeners = new CopyOnWriteArrayList<>();

  /** Empty until the first {@link #set}. */
  public SettableCertificateSource() {}

  /** Serves {@code certificate} from now on and tells every subscriber. */
  public void set(WorkloadCertificate certificate) {
    requireNonNull(certificate, "certificate");
    current.set(certificate);
    for (Consumer<WorkloadCertificate> l : listeners) {
      l.accept(certificate);
    }
  }

  @Override
  public Optional<WorkloadCertificate> current() {
    return Optional.ofNullable(current.get());
  }

  @Override
  public void subscribe(Consumer<WorkloadCertificate> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }
}
