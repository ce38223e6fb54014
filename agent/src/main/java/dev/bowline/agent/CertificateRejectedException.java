package dev.bowline.agent;

/** The CA's answer is not a certificate this agent may serve; the message names the field. */
final class CertificateRejectedException extends Exception {
  CertificateRejectedException(String message) {
    super(message);
  }

  CertificateRejectedException(String message, Throwable cause) {
    super(message, cause);
  }
}
