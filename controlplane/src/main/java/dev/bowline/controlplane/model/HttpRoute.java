package dev.bowline.controlplane.model;

import java.util.List;
import java.util.Objects;

/**
 * One resolved VirtualService HTTP route, in the form generators turn into an Envoy route: how to
 * match, and where to send with which weights. More of VirtualService (rewrite, retries, fault…)
 * joins here as the config module provides it.
 *
 * @param name the route's name (may be empty)
 * @param path how the request path must match
 * @param headers exact header matches, all required
 * @param destinations weighted destinations; weights are relative and positive
 */
public record HttpRoute(
    String name, PathMatch path, List<HeaderMatch> headers, List<Destination> destinations) {
  public HttpRoute {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(path, "path");
    headers = List.copyOf(headers);
    destinations = List.copyOf(destinations);
    if (destinations.isEmpty()) {
      throw new IllegalArgumentException("route " + name + ": at least one destination");
    }
  }

  /** How the path must match. */
  public sealed interface PathMatch {
    /** The path starts with {@code prefix}. */
    record Prefix(String prefix) implements PathMatch {}

    /** The path is exactly {@code path}. */
    record Exact(String path) implements PathMatch {}

    /** The path matches the RE2 regex {@code regex}. */
    record Regex(String regex) implements PathMatch {}
  }

  /** The header {@code name} must equal {@code value}. */
  public record HeaderMatch(String name, String value) {}

  /**
   * A destination: a fully qualified host, its port, an optional subset ({@code ""} for none), and
   * a relative weight.
   */
  public record Destination(String host, int port, String subset, int weight) {
    public Destination {
      if (weight <= 0) {
        throw new IllegalArgumentException("destination " + host + ": weight must be > 0");
      }
    }
  }
}
