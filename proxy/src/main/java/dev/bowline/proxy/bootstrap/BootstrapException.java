package dev.bowline.proxy.bootstrap;

/** A bootstrap that cannot be read or parsed; the message names the file and the field. */
public final class BootstrapException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BootstrapException(String message) {
    super(message);
  }

  public BootstrapException(String message, Throwable cause) {
    super(message, cause);
  }
}
