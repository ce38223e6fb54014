package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/** Where the CA's signing key and trust anchors come from. */
public sealed interface RootSource {

  /** The directory holding the key material. */
  Path directory();

  /**
   * A self-signed root the CA creates at first start and keeps in {@code directory}: {@code
   * ca-key.pem} (mode 0600), {@code ca-cert.pem} and the trust bundle {@code root-cert.pem}. Later
   * starts load it, so issued identities stay valid. {@link CertificateAuthority#rotateRoot()}
   * replaces it while the old root stays trusted.
   *
   * @param directory created (mode 0700) when missing
   */
  record SelfSigned(Path directory) implements RootSource {
    public SelfSigned {
      requireNonNull(directory, "directory");
    }
  }

  /**
   * An intermediate CA plugged in from Istio's {@code cacerts} files, as {@code istiod} reads them:
   * {@code ca-cert.pem} (the signing certificate), {@code ca-key.pem} (its key), {@code
   * root-cert.pem} (the trusted roots; list old and new to rotate) and {@code cert-chain.pem} (from
   * {@code ca-cert.pem} up to the root). The CA never writes there; an operator replaces the files
   * and calls {@link CertificateAuthority#reload()}.
   *
   * @param directory must hold the four files
   */
  record PluggedIn(Path directory) implements RootSource {
    public PluggedIn {
      requireNonNull(directory, "directory");
    }
  }
}
