package dev.bowline.proxy.http.filter.router;

/**
 * The router's config.
 *
 * @param suppressEnvoyHeaders do not add {@code x-envoy-*} headers
 */
public record RouterConfig(boolean suppressEnvoyHeaders) {}
