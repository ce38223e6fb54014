package dev.bowline.controlplane.registry;

/** An endpoint's health as the registry knows it; maps to Envoy's {@code HealthStatus}. */
public enum HealthStatus {
  HEALTHY,
  UNHEALTHY,
  DRAINING
}
