package dev.bowline.controlplane.xds.gen;

import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.controlplane.registry.ServicePort;
import java.util.Optional;

/**
 * A proxyless gRPC client's target authority ({@code forecast.weather.svc.cluster.local:8080}, or a
 * short name resolved in the client's namespace), resolved to a service port.
 */
record GrpcTarget(String requestedName, Service service, ServicePort port) {
  /** The hostname:port form used for virtual host names and RDS names. */
  String hostPort() {
    return service.hostname() + ":" + port.port();
  }

  /** Resolves {@code name}; empty if it has no port or names no known service port. */
  static Optional<GrpcTarget> resolve(String name, Proxy proxy, PushContext push) {
    int colon = name.lastIndexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    int port;
    try {
      port = Integer.parseInt(name.substring(colon + 1));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    Optional<Service> service = push.resolve(name.substring(0, colon), proxy);
    if (service.isEmpty() || !push.scope(proxy).isVisible(service.get(), proxy.namespace())) {
      return Optional.empty();
    }
    return service.get().port(port).map(p -> new GrpcTarget(name, service.get(), p));
  }
}
