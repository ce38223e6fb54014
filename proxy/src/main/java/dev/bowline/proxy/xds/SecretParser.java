package dev.bowline.proxy.xds;

import dev.bowline.proxy.tls.Secret;
import java.util.Set;

/** SDS {@code Secret} → {@link Secret}: a certificate with its key, or a validation context. */
public final class SecretParser
    extends ResourceParser<io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret, Secret> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  public SecretParser() {
    super(
        TYPE_URL,
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.getDescriptor(),
        io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.parser());
  }

  @Override
  public String name(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret proto) {
    return proto.getName();
  }

  @Override
  public Secret parse(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret s)
      throws InvalidResourceException {
    return switch (s.getTypeCase()) {
      case TLS_CERTIFICATE -> {
        var t = s.getTlsCertificate();
        if (!t.hasCertificateChain() || !t.hasPrivateKey()) {
          throw new InvalidResourceException(
              "tls_certificate", "certificate_chain and private_key are required");
        }
        String chain = TlsParser.data(t.getCertificateChain(), "tls_certificate.certificate_chain");
        String key = TlsParser.data(t.getPrivateKey(), "tls_certificate.private_key");
        try {
          dev.bowline.proxy.tls.Pem.certificates(chain);
        } catch (IllegalArgumentException e) {
          throw new InvalidResourceException("tls_certificate.certificate_chain", e.getMessage());
        }
        yield new Secret.Certificate(chain, key);
      }
      case VALIDATION_CONTEXT -> {
        var v = s.getValidationContext();
        if (!v.hasTrustedCa()) {
          throw new InvalidResourceException("validation_context.trusted_ca", "is required");
        }
        String ca = TlsParser.data(v.getTrustedCa(), "validation_context.trusted_ca");
        try {
          dev.bowline.proxy.tls.Pem.certificates(ca);
        } catch (IllegalArgumentException e) {
          throw new InvalidResourceException("validation_context.trusted_ca", e.getMessage());
        }
        yield new Secret.Validation(ca, TlsParser.sanMatchers(v, "validation_context"));
      }
      case SESSION_TICKET_KEYS, GENERIC_SECRET ->
          throw new InvalidResourceException(
              s.getTypeCase().name().toLowerCase(java.util.Locale.ROOT), "is not supported");
      case TYPE_NOT_SET ->
          throw new InvalidResourceException("", "tls_certificate or validation_context required");
    };
  }

  private static final Set<String> HONOURED =
      Set.of(
          "name",
          "tls_certificate.certificate_chain",
          "tls_certificate.private_key",
          "validation_context.trusted_ca",
          "validation_context.match_typed_subject_alt_names",
          "validation_context.match_subject_alt_names");

  @Override
  Set<String> honouredFields() {
    return HONOURED;
  }
}
