package dev.bowline.api.model;

import org.jspecify.annotations.Nullable;

/** A port of a service, by number. */
public record PortSelector(@Nullable Integer number) {}
