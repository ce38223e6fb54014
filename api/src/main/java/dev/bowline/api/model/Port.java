package dev.bowline.api.model;

import org.jspecify.annotations.Nullable;

/**
 * A port with a protocol: a Gateway server's port, a ServiceEntry port or a Sidecar listener port
 * (istio.io/api's Port, ServicePort and SidecarPort have the same fields).
 */
public record Port(
    @Nullable Integer number,
    @Nullable String protocol,
    @Nullable String name,
    @Nullable Integer targetPort) {}
