package dev.bowline.proxy.tls;

/** An SDS secret's content ({@code envoy.extensions.transport_sockets.tls.v3.Secret}). */
public sealed interface Secret {
  /** {@code tls_certificate}: PEM chain and key. */
  record Certificate(String chainPem, String keyPem) implements Secret {
    @Override
    public String toString() {
      return "Certificate[chain=" + chainPem.length() + " chars, key=<redacted>]";
    }
  }

  /** {@code validation_context}: PEM trusted CAs, optionally SAN matchers. */
  record Validation(String caPem, java.util.List<SanMatcher> sanMatchers) implements Secret {
    public Validation {
      sanMatchers = java.util.List.copyOf(sanMatchers);
    }
  }
}
