package dev.bowline.controlplane.model;

import java.util.List;
import java.util.Objects;

/**
 * A DestinationRule's {@code trafficPolicy.tls} (ClientTLSSettings): how a sidecar talks TLS to the
 * destination.
 *
 * @param mode DISABLE, SIMPLE, MUTUAL or ISTIO_MUTUAL
 * @param clientCertificate file with the client certificate (MUTUAL), {@code ""} if none
 * @param privateKey file with its key (MUTUAL), {@code ""} if none
 * @param caCertificates file with the CAs to verify the server (SIMPLE, MUTUAL), {@code ""} if none
 * @param credentialName a secret holding key, certificate and CA ({@code kubernetes://name}),
 *     {@code ""} if none
 * @param subjectAltNames the server must have one of them; empty: any (ISTIO_MUTUAL: the
 *     destination's service accounts)
 * @param sni the server name to send, {@code ""} for the default
 * @param insecureSkipVerify do not verify the server's certificate
 */
public record ClientTls(
    Mode mode,
    String clientCertificate,
    String privateKey,
    String caCertificates,
    String credentialName,
    List<String> subjectAltNames,
    String sni,
    boolean insecureSkipVerify) {
  public ClientTls {
    Objects.requireNonNull(mode, "mode");
    subjectAltNames = List.copyOf(subjectAltNames);
  }

  /** Istio's {@code ClientTLSSettings.TLSmode}. */
  public enum Mode {
    DISABLE,
    SIMPLE,
    MUTUAL,
    ISTIO_MUTUAL
  }
}
