package dev.bowline.controlplane.registry;

import java.util.Objects;

/**
 * One port of a service.
 *
 * @param name the port's name ({@code grpc}, {@code http-web}); may be empty
 * @param port the service port clients use
 * @param protocol explicit protocol, or derived from the name
 * @param targetPort the port workloads listen on unless a workload maps {@code name} itself
 */
public record ServicePort(String name, int port, Protocol protocol, int targetPort) {
  public ServicePort {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(protocol, "protocol");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + ": must be 1..65535");
    }
    if (targetPort < 1 || targetPort > 65535) {
      throw new IllegalArgumentException("targetPort " + targetPort + ": must be 1..65535");
    }
  }
}
