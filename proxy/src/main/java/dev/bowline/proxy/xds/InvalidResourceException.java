package dev.bowline.proxy.xds;

/**
 * A resource the proxy cannot accept. The message names the resource type, the resource and the
 * field, e.g. {@code Listener http_8080: filter_chains[0].filters[0].typed_config: unknown type}.
 */
public final class InvalidResourceException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String field;

  /** A problem at {@code field} (a path relative to the resource). */
  public InvalidResourceException(String field, String message) {
    super(field + ": " + message);
    this.field = field;
  }

  /** The field path relative to the resource. */
  public String field() {
    return field;
  }

  /**
   * This error seen from an enclosing field, e.g. {@code filter_chains[0]} + {@code .filters[1]}.
   */
  InvalidResourceException under(String parent) {
    String path = field.isEmpty() ? parent : parent + "." + field;
    String text = getMessage().substring(field.length() + 2);
    return new InvalidResourceException(path, text);
  }
}
