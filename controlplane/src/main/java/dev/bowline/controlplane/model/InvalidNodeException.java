package dev.bowline.controlplane.model;

/** A node id or node metadata that Bowline can't serve; the message says which part and why. */
public final class InvalidNodeException extends Exception {
  /** A node problem described by {@code message}. */
  public InvalidNodeException(String message) {
    super(message);
  }
}
