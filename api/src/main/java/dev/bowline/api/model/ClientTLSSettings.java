package dev.bowline.api.model;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** TLS towards an upstream (DestinationRule traffic policy). */
public record ClientTLSSettings(
    @Nullable Mode mode,
    @Nullable String clientCertificate,
    @Nullable String privateKey,
    @Nullable String caCertificates,
    @Nullable String credentialName,
    List<String> subjectAltNames,
    @Nullable String sni,
    @Nullable Boolean insecureSkipVerify,
    @Nullable String caCrl) {
  public ClientTLSSettings {
    subjectAltNames = Freeze.list(subjectAltNames);
  }

  /** TLS mode towards the upstream. */
  public enum Mode {
    DISABLE,
    SIMPLE,
    MUTUAL,
    ISTIO_MUTUAL
  }
}
