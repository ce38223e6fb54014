package dev.bowline.proxy.config;

/**
 * The connection manager's {@code forward_client_cert_details} and {@code
 * set_current_client_cert_details}: what happens to {@code x-forwarded-client-cert} (XFCC).
 *
 * @param mode Envoy's {@code ForwardClientCertDetails}
 * @param subject add {@code Subject="…"} of the client certificate
 * @param cert add {@code Cert="…"} (URL-encoded PEM)
 * @param chain add {@code Chain="…"} (URL-encoded PEM chain)
 * @param dns add {@code DNS=} per DNS SAN
 * @param uri add {@code URI=} per URI SAN
 */
public record ClientCertDetails(
    Mode mode, boolean subject, boolean cert, boolean chain, boolean dns, boolean uri) {
  /** Envoy's default: the header never goes to the next hop. */
  public static final ClientCertDetails SANITIZE =
      new ClientCertDetails(Mode.SANITIZE, false, false, false, false, false);

  /** Envoy's {@code ForwardClientCertDetails}. */
  public enum Mode {
    /** Remove the header. */
    SANITIZE,
    /** Forward it as received when the client connection is mTLS; else remove it. */
    FORWARD_ONLY,
    /** Append this hop's element when the client connection is mTLS; else remove it. */
    APPEND_FORWARD,
    /** Replace it with this hop's element when the client connection is mTLS; else remove it. */
    SANITIZE_SET,
    /** Forward it as received, mTLS or not. */
    ALWAYS_FORWARD_ONLY
  }
}
