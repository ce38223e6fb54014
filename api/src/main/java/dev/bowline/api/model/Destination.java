package dev.bowline.api.model;

import org.jspecify.annotations.Nullable;

/** Where traffic goes: a service host, an optional subset and port. */
public record Destination(String host, @Nullable String subset, @Nullable PortSelector port) {
  public Destination {
    host = host == null ? "" : host;
  }
}
