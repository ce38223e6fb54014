package dev.bowline.api.model;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** TLS a Gateway server or Sidecar ingress listener terminates or passes through. */
public record ServerTLSSettings(
    @Nullable Boolean httpsRedirect,
    @Nullable Mode mode,
    @Nullable String serverCertificate,
    @Nullable String privateKey,
    @Nullable String caCertificates,
    @Nullable String caCrl,
    @Nullable String credentialName,
    List<String> credentialNames,
    @Nullable String caCertCredentialName,
    List<TLSCertificate> tlsCertificates,
    List<String> subjectAltNames,
    List<String> verifyCertificateSpki,
    List<String> verifyCertificateHash,
    @Nullable TLSProtocol minProtocolVersion,
    @Nullable TLSProtocol maxProtocolVersion,
    List<String> cipherSuites) {
  public ServerTLSSettings {
    credentialNames = Freeze.list(credentialNames);
    tlsCertificates = Freeze.list(tlsCertificates);
    subjectAltNames = Freeze.list(subjectAltNames);
    verifyCertificateSpki = Freeze.list(verifyCertificateSpki);
    verifyCertificateHash = Freeze.list(verifyCertificateHash);
    cipherSuites = Freeze.list(cipherSuites);
  }

  /** How the server treats TLS. */
  public enum Mode {
    PASSTHROUGH,
    SIMPLE,
    MUTUAL,
    AUTO_PASSTHROUGH,
    ISTIO_MUTUAL,
    OPTIONAL_MUTUAL
  }

  /** TLS protocol versions. */
  public enum TLSProtocol {
    TLS_AUTO,
    TLSV1_0,
    TLSV1_1,
    TLSV1_2,
    TLSV1_3
  }

  /** One certificate/key pair from files. */
  public record TLSCertificate(
      @Nullable String serverCertificate,
      @Nullable String privateKey,
      @Nullable String caCertificates) {}
}
