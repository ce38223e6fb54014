package dev.bowline.api.model;

import org.jspecify.annotations.Nullable;

/** A policy's target: a Gateway API resource or Service by group, kind and name. */
public record PolicyTargetReference(
    @Nullable String group,
    @Nullable String kind,
    @Nullable String name,
    @Nullable String namespace) {}
