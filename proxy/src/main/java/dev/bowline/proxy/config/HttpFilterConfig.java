package dev.bowline.proxy.config;

/**
 * One HTTP filter of a connection manager: its name, its type URL and the filter's own immutable
 * config as its factory built it.
 */
public record HttpFilterConfig(String name, String typeUrl, Object config) {}
