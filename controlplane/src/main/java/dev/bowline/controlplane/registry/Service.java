package dev.bowline.controlplane.registry;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A service in the mesh model, whatever registry it came from.
 *
 * @param hostname its fully qualified Istio hostname ({@code forecast.weather.svc.cluster.local})
 * @param namespace the namespace it belongs to
 * @param name its short name
 * @param ports its ports, in declaration order
 * @param labels its labels
 */
public record Service(
    String hostname,
    String namespace,
    String name,
    List<ServicePort> ports,
    Map<String, String> labels) {
  public Service {
    Objects.requireNonNull(hostname, "hostname");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    ports = List.copyOf(ports);
    labels = Map.copyOf(labels);
  }

  /** The port numbered {@code number}, if the service has it. */
  public Optional<ServicePort> port(int number) {
    for (ServicePort p : ports) {
      if (p.port() == number) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
