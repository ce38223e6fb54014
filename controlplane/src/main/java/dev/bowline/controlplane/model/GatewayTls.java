package dev.bowline.controlplane.model;

import java.util.List;
import java.util.Objects;

/**
 * A Gateway server's {@code tls} block ({@code ServerTLSSettings}), as the listener generator needs
 * it. Empty strings stand for fields not set.
 *
 * @param mode {@code SIMPLE}, {@code MUTUAL}, {@code PASSTHROUGH}, {@code ISTIO_MUTUAL}, {@code
 *     AUTO_PASSTHROUGH}, {@code OPTIONAL_MUTUAL}; empty when only {@code httpsRedirect} is set
 * @param httpsRedirect answer plaintext requests with a 301 to {@code https}
 * @param credentialName the Kubernetes Secret with the certificate ({@code [namespace/]name})
 * @param serverCertificate file path of the certificate chain
 * @param privateKey file path of the private key
 * @param caCertificates file path of the CA bundle that client certificates must chain to
 * @param subjectAltNames a client certificate must carry one of these SANs (exact)
 * @param verifyCertificateSpki base64 SHA-256 of an accepted client SPKI
 * @param verifyCertificateHash hex SHA-256 of an accepted client certificate
 * @param minProtocolVersion {@code TLSV1_2} ... or empty (Istio's default: TLS 1.2)
 * @param maxProtocolVersion {@code TLSV1_3} ... or empty
 * @param cipherSuites OpenSSL cipher suite names
 */
public record GatewayTls(
    String mode,
    boolean httpsRedirect,
    String credentialName,
    String serverCertificate,
    String privateKey,
    String caCertificates,
    List<String> subjectAltNames,
    List<String> verifyCertificateSpki,
    List<String> verifyCertificateHash,
    String minProtocolVersion,
    String maxProtocolVersion,
    List<String> cipherSuites) {
  public GatewayTls {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(credentialName, "credentialName");
    Objects.requireNonNull(serverCertificate, "serverCertificate");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(caCertificates, "caCertificates");
    subjectAltNames = List.copyOf(subjectAltNames);
    verifyCertificateSpki = List.copyOf(verifyCertificateSpki);
    verifyCertificateHash = List.copyOf(verifyCertificateHash);
    Objects.requireNonNull(minProtocolVersion, "minProtocolVersion");
    Objects.requireNonNull(maxProtocolVersion, "maxProtocolVersion");
    cipherSuites = List.copyOf(cipherSuites);
  }

  /** Only {@code httpsRedirect}: a plaintext server that redirects. */
  public static GatewayTls redirectOnly() {
    return new GatewayTls(
        "", true, "", "", "", "", List.of(), List.of(), List.of(), "", "", List.of());
  }
}
