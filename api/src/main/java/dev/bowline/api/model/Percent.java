package dev.bowline.api.model;

/** A percentage in the range 0.0 to 100.0. */
public record Percent(double value) {}
