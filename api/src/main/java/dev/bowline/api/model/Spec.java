package dev.bowline.api.model;

/**
 * The spec of an Istio resource: one record per kind. Switch over it to handle each kind; the
 * compiler checks that every kind is covered.
 */
public sealed interface Spec
    permits VirtualService,
        DestinationRule,
        Gateway,
        ServiceEntry,
        WorkloadEntry,
        WorkloadGroup,
        Sidecar,
        EnvoyFilter,
        ProxyConfig,
        PeerAuthentication,
        RequestAuthentication,
        AuthorizationPolicy,
        Telemetry,
        WasmPlugin,
        KubernetesSecret {}
