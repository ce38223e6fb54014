package dev.bowline.controlplane.xds.server;

import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Endpoint;
import java.util.List;
import java.util.Map;

/**
 * Proxies whose generated config is identical: same kind and generator, same namespace and labels
 * (so the same SidecarScope and config visibility), same interception mode and HTTP/1.0 switch, and
 * same own service instances (which decide inbound clusters). Generation runs once per class and
 * push, not once per proxy. Proxyless gRPC clients don't get inbound clusters, so their instances
 * don't count.
 */
record EquivalenceClass(
    NodeType type,
    String generator,
    String namespace,
    Map<String, String> labels,
    String interceptionMode,
    boolean http10,
    List<String> instances) {
  static EquivalenceClass of(Proxy proxy, PushContext push) {
    List<String> instances =
        proxy.isProxylessGrpc()
            ? List.of()
            : push.serviceInstances(proxy).stream()
                .map(EquivalenceClass::instanceKey)
                .sorted()
                .toList();
    return new EquivalenceClass(
        proxy.type(),
        proxy.generator(),
        proxy.namespace(),
        proxy.labels(),
        proxy.interceptionMode(),
        proxy.http10(),
        instances);
  }

  private static String instanceKey(Endpoint e) {
    return e.servicePort() + ">" + e.address() + ":" + e.port();
  }
}
