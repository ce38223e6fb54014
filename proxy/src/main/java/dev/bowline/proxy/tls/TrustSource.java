package dev.bowline.proxy.tls;

/** The trusted CA certificates a peer's chain must lead to: inline or from SDS. */
public sealed interface TrustSource {
  /** {@code validation_context.trusted_ca}: PEM CA certificates. */
  record Inline(String caPem) implements TrustSource {}

  /**
   * {@code validation_context_sds_secret_config} (alone or in a {@code
   * combined_validation_context}): the validation secret {@code name} from {@code source}.
   */
  record Sds(String name, SdsSource source) implements TrustSource {}
}
