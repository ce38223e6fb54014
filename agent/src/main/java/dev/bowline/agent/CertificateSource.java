package dev.bowline.agent;

import java.util.Optional;
import java.util.function.Consumer;

/** Where SDS gets the workload certificate: {@link CertificateManager}, or a fixed one in tests. */
public interface CertificateSource {

  /** The certificate to serve now, if there is one yet. */
  Optional<WorkloadCertificate> current();

  /**
   * Calls {@code listener} with each new certificate (not with the current one). Listeners run on
   * the source's thread and must return quickly.
   */
  void subscribe(Consumer<WorkloadCertificate> listener);
}
