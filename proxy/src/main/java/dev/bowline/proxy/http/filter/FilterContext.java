package dev.bowline.proxy.http.filter;

/**
 * Where a filter's config is being built: what its listener says about the traffic it carries.
 *
 * @param direction the listener's {@code traffic_direction}
 * @param statPrefix the owning connection manager's stats scope, {@code http.<stat_prefix>.}
 *     (Envoy's filter {@code stats_prefix}); empty when not known
 */
public record FilterContext(TrafficDirection direction, String statPrefix) {
  /** A context with nothing known. */
  public static final FilterContext NONE = new FilterContext(TrafficDirection.UNSPECIFIED);

  /** A context of a listener with {@code direction}, outside a connection manager. */
  public FilterContext(TrafficDirection direction) {
    this(direction, "");
  }

  /** This context inside the connection manager with {@code stat_prefix} {@code hcmStatPrefix}. */
  public FilterContext inConnectionManager(String hcmStatPrefix) {
    return new FilterContext(direction, "http." + hcmStatPrefix + ".");
  }
}
