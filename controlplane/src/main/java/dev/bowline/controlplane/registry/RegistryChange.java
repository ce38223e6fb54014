package dev.bowline.controlplane.registry;

import java.util.Objects;
import java.util.Set;

/**
 * One change of a registry.
 *
 * @param snapshot the registry after the change
 * @param servicesChanged services were added, removed or changed (ports, labels): every proxy needs
 *     a full push
 * @param endpointHosts hostnames whose endpoints changed: proxies watching them need EDS
 */
public record RegistryChange(
    RegistrySnapshot snapshot, boolean servicesChanged, Set<String> endpointHosts) {
  public RegistryChange {
    Objects.requireNonNull(snapshot, "snapshot");
    endpointHosts = Set.copyOf(endpointHosts);
  }

  /** Whether nothing changed. */
  public boolean isEmpty() {
    return !servicesChanged && endpointHosts.isEmpty();
  }
}
