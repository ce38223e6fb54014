package dev.bowline.agent;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Envoy {@code Secret} resources for a workload certificate, named as Istio names them. */
final class SdsSecrets {
  /** Istio's name for the workload certificate and key. */
  static final String DEFAULT = "default";

  /** Istio's name for the trust bundle. */
  static final String ROOTCA = "ROOTCA";

  /** Envoy's type URL for SDS resources. */
  static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  private SdsSecrets() {}

  /**
   * Why this agent will not serve {@code name}, or empty when it will. Istio's agent serves the
   * workload certificate under any name but ROOTCA and reads files for {@code file-cert:} / {@code
   * file-root:} names; this agent does not read files.
   */
  static Optional<String> unsupported(String name) {
    if (name.startsWith("file-cert:") || name.startsWith("file-root:")) {
      return Optional.of(
          "resource '" + name + "': file-based certificates are not supported by this agent");
    }
    return Optional.empty();
  }

  /** True when {@code name} is served from the bundle rather than the certificate. */
  static boolean isRoot(String name) {
    return name.equals(ROOTCA);
  }

  /**
   * {@code ROOTCA}: validation_context.trusted_ca = the bundle; any other name: tls_certificate
   * with chain and key (as Istio does for unknown names).
   */
  static Secret secret(String name, WorkloadCertificate cert) {
    Secret.Builder b = Secret.newBuilder().setName(name);
    if (isRoot(name)) {
      b.setValidationContext(
          CertificateValidationContext.newBuilder().setTrustedCa(inline(cert.bundle().pem())));
    } else {
      b.setTlsCertificate(
          TlsCertificate.newBuilder()
              .setCertificateChain(inline(cert.chainPem()))
              .setPrivateKey(inline(cert.privateKeyPem())));
    }
    return b.build();
  }

  private static DataSource inline(String pem) {
    return DataSource.newBuilder()
        .setInlineBytes(ByteString.copyFrom(pem, StandardCharsets.US_ASCII))
        .build();
  }
}
