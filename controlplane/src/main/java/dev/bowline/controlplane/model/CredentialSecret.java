package dev.bowline.controlplane.model;

import java.util.Optional;

/**
 * The TLS material of one Kubernetes Secret a {@code credentialName} may name, already validated
 * (decision 0022). {@link #toString()} never shows the key.
 *
 * @param chainPem the certificate chain ({@code tls.crt} or {@code cert})
 * @param keyPem its private key ({@code tls.key} or {@code key})
 * @param caPem the CA bundle ({@code ca.crt} or {@code cacert})
 */
public record CredentialSecret(
    Optional<String> chainPem, Optional<String> keyPem, Optional<String> caPem) {
  @Override
  public String toString() {
    return "CredentialSecret[chain="
        + chainPem.isPresent()
        + ", key="
        + (keyPem.isPresent() ? "<redacted>" : "none")
        + ", ca="
        + caPem.isPresent()
        + "]";
  }
}
