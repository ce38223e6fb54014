package dev.bowline.api.model;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** networking.istio.io Gateway: the servers a gateway workload exposes. */
public record Gateway(List<Server> servers, Map<String, String> selector) implements Spec {
  public Gateway {
    servers = Freeze.list(servers);
    selector = Freeze.map(selector);
  }

  /** One server: a port, the hosts it serves and its TLS. */
  public record Server(
      @Nullable Port port,
      @Nullable String bind,
      List<String> hosts,
      @Nullable ServerTLSSettings tls,
      @Nullable String defaultEndpoint,
      @Nullable String name) {
    public Server {
      hosts = Freeze.list(hosts);
    }
  }
}
