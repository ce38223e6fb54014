package dev.bowline.proxy.tls;

/** A certificate chain and its private key: inline or from SDS. */
public sealed interface CertificateSource {
  /** {@code tls_certificates}: PEM chain (leaf first) and PEM private key. */
  record Inline(String chainPem, String keyPem) implements CertificateSource {
    @Override
    public String toString() {
      return "Inline[chain=" + chainPem.length() + " chars, key=<redacted>]";
    }
  }

  /** {@code tls_certificate_sds_secret_configs}: the secret {@code name} from {@code source}. */
  record Sds(String name, SdsSource source) implements CertificateSource {}
}
