package dev.bowline.proxy.http.filter;

/**
 * Where a filter's config is being built: what its listener says about the traffic it carries.
 *
 * @param direction the listener's {@code traffic_direction}
 */
public record FilterContext(TrafficDirection direction) {
  /** A context with nothing known. */
  public static final FilterContext NONE = new FilterContext(TrafficDirection.UNSPECIFIED);
}
