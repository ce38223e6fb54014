package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.controlplane.registry.ServicePort;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * CDS, as istiod builds it. Outbound clusters {@code outbound|port|subset|host} of type EDS for
 * every visible service port and DestinationRule subset. For sidecars also the inbound clusters of
 * the proxy's own service instances ({@code inbound|targetPort||}), {@code BlackHoleCluster},
 * {@code PassthroughCluster} and {@code InboundPassthroughCluster}. Proxyless gRPC clients get only
 * the outbound clusters, as istiod's grpc generator does.
 */
final class ClusterGenerator implements XdsGenerator {
  static final String BLACK_HOLE = "BlackHoleCluster";
  static final String PASSTHROUGH = "PassthroughCluster";
  static final String INBOUND_PASSTHROUGH = "InboundPassthroughCluster";

  /** Istio's default connect timeout (MeshConfig {@code connectTimeout}). */
  private static final Duration DEFAULT_CONNECT_TIMEOUT =
      Duration.newBuilder().setSeconds(10).build();

  /** MeshConfig {@code connectTimeout}: every cluster's unless a DestinationRule sets one. */
  static Duration connectTimeout(PushContext push) {
    java.time.Duration d = push.mesh().connectTimeout();
    return d == null ? DEFAULT_CONNECT_TIMEOUT : proto(d);
  }

  static Duration proto(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  /** Istio binds inbound upstream connections to this address so iptables lets them through. */
  private static final String INBOUND_BIND = "127.0.0.6";

  static final ConfigSource ADS =
      ConfigSource.newBuilder()
          .setAds(AggregatedConfigSource.getDefaultInstance())
          .setResourceApiVersion(ApiVersion.V3)
          .build();

  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> out = new TreeMap<>();
    if (names.wildcard()) {
      for (Service s : push.visibleServices(proxy)) {
        TrafficPolicy policy = push.trafficPolicy(s, proxy);
        for (ServicePort p : s.ports()) {
          addOutbound(
              out,
              proxy,
              push,
              s,
              p.port(),
              "",
              Map.of(),
              policy.loadBalancer(p.port()),
              policy.settings(p.port()));
          for (TrafficPolicy.Subset subset : policy.subsets()) {
            addOutbound(
                out,
                proxy,
                push,
                s,
                p.port(),
                subset.name(),
                subset.labels(),
                subset.loadBalancer(p.port()),
                subset.settings(p.port()));
          }
        }
      }
      if (!proxy.isProxylessGrpc()) {
        addSidecarClusters(out, proxy, push);
        // JWKS hosts of RequestAuthentication that are no registry service
        RequestAuthn.jwksClusters(proxy, push).forEach(out::putIfAbsent);
      }
    }
    for (String name : names.names()) {
      if (out.containsKey(name)) {
        continue;
      }
      outbound(proxy, push, name).ifPresent(c -> out.put(name, c));
    }
    return out;
  }

  private static Optional<Cluster> outbound(Proxy proxy, PushContext push, String name) {
    Optional<ClusterName> parsed =
        ClusterName.parse(name).filter(c -> c.direction().equals("outbound"));
    if (parsed.isEmpty()) {
      return Optional.empty();
    }
    ClusterName cn = parsed.get();
    Optional<Service> service = push.registry().service(cn.host());
    if (service.isEmpty() || service.get().port(cn.port()).isEmpty()) {
      return Optional.empty();
    }
    TrafficPolicy policy = push.trafficPolicy(service.get(), proxy);
    if (cn.subset().isEmpty()) {
      return Optional.of(
          ServiceClusters.outbound(
              proxy,
              push,
              service.get(),
              cn.port(),
              name,
              Map.of(),
              policy.loadBalancer(cn.port()),
              policy.settings(cn.port())));
    }
    return policy.subsets().stream()
        .filter(s -> s.name().equals(cn.subset()))
        .findFirst()
        .map(
            s ->
                ServiceClusters.outbound(
                    proxy,
                    push,
                    service.get(),
                    cn.port(),
                    name,
                    s.labels(),
                    s.loadBalancer(cn.port()),
                    s.settings(cn.port())));
  }

  private static void addOutbound(
      SortedMap<String, Message> out,
      Proxy proxy,
      PushContext push,
      Service s,
      int port,
      String subset,
      Map<String, String> subsetLabels,
      TrafficPolicy.LoadBalancer lb,
      TrafficPolicy.ClusterSettings settings) {
    String name = ClusterName.outbound(port, subset, s.hostname());
    out.put(
        name,
        ServiceClusters.outbound(
            proxy, push, s, port, name, subsetLabels, lb, push.withMeshDefaults(settings)));
  }

  static Cluster edsCluster(
      Proxy proxy,
      String name,
      TrafficPolicy.LoadBalancer lb,
      TrafficPolicy.ClusterSettings settings,
      ClusterTls.Target target) {
    Cluster.Builder c =
        Cluster.newBuilder()
            .setName(name)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(
                Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ADS).setServiceName(name));
    switch (lb) {
      case ROUND_ROBIN -> c.setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
      case LEAST_REQUEST -> c.setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST);
      case RANDOM -> c.setLbPolicy(Cluster.LbPolicy.RANDOM);
      case PASSTHROUGH ->
          c.clearEdsClusterConfig()
              .setType(Cluster.DiscoveryType.ORIGINAL_DST)
              .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED);
    }
    if (!proxy.isProxylessGrpc()) {
      c.setConnectTimeout(connectTimeout(target.push()));
    }
    ClusterPolicies.apply(c, settings, !proxy.isProxylessGrpc());
    if (!proxy.isProxylessGrpc() && lb != TrafficPolicy.LoadBalancer.PASSTHROUGH) {
      ClusterTls.apply(c, settings.tls(), target);
    }
    return c.build();
  }

  /** An inbound cluster's upstream protocol by its port's: istiod's {@code setUpstreamProtocol}. */
  private static Cluster.Builder inboundProtocol(
      Cluster.Builder c, dev.bowline.controlplane.registry.Protocol protocol) {
    ClusterPolicies.applyUpstreamProtocol(c, protocol, false, true, null, null);
    return c;
  }

  private static void addSidecarClusters(
      SortedMap<String, Message> out, Proxy proxy, PushContext push) {
    if (proxy.type() == dev.bowline.controlplane.model.NodeType.ROUTER) {
      // istiod: a gateway has no inbound side; besides the outbound clusters it gets BlackHole.
      out.put(
          BLACK_HOLE,
          Cluster.newBuilder()
              .setName(BLACK_HOLE)
              .setType(Cluster.DiscoveryType.STATIC)
              .setConnectTimeout(connectTimeout(push))
              .build());
      return;
    }
    if (proxy.isLocalMode()) {
      // Local mode: nothing redirects traffic, so the inbound cluster names the app itself, on
      // the port POD_PORTS gives (the runner moved it there).
      for (SidecarListenerGenerator.InboundPort in :
          SidecarListenerGenerator.localInboundPorts(proxy, push)) {
        String name = ClusterName.inbound(in.targetPort());
        out.putIfAbsent(
            name,
            inboundProtocol(Cluster.newBuilder(), in.protocol())
                .setName(name)
                .setConnectTimeout(connectTimeout(push))
                .setMetadata(
                    telemetryMetadata(
                        push,
                        push.serviceInstances(proxy),
                        e -> e.servicePort() == in.servicePort()))
                .setType(Cluster.DiscoveryType.STATIC)
                .setLoadAssignment(oneEndpoint(name, proxy.ipAddress(), in.targetPort()))
                .build());
      }
    }
    for (Endpoint instance : push.serviceInstances(proxy)) {
      // Istio names inbound clusters by the workload's (target) port.
      String name = ClusterName.inbound(instance.port());
      if (proxy.isLocalMode() || out.containsKey(name)) {
        continue;
      }
      out.put(
          name,
          inboundProtocol(
                  Cluster.newBuilder(),
                  push.registry()
                      .service(instance.hostname())
                      .flatMap(s -> s.port(instance.servicePort()))
                      .map(dev.bowline.controlplane.registry.ServicePort::protocol)
                      .orElse(dev.bowline.controlplane.registry.Protocol.TCP))
              .setName(name)
              .setConnectTimeout(connectTimeout(push))
              .setMetadata(
                  telemetryMetadata(
                      push, push.serviceInstances(proxy), e -> e.port() == instance.port()))
              .setType(Cluster.DiscoveryType.ORIGINAL_DST)
              .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
              .setUpstreamBindConfig(
                  BindConfig.newBuilder()
                      .setSourceAddress(socket(INBOUND_BIND, 0).getSocketAddress()))
              .build());
    }
    out.put(
        BLACK_HOLE,
        Cluster.newBuilder()
            .setName(BLACK_HOLE)
            .setType(Cluster.DiscoveryType.STATIC)
            .setConnectTimeout(connectTimeout(push))
            .build());
    Cluster.Builder passthrough =
        Cluster.newBuilder()
            .setName(PASSTHROUGH)
            .setType(Cluster.DiscoveryType.ORIGINAL_DST)
            .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
            .setConnectTimeout(connectTimeout(push));
    if (push.scope(proxy).httpProxyListener(proxy).isPresent()) {
      // Requests through the HTTP proxy listener were not redirected: their original destination
      // can only be named by x-envoy-original-dst-host (decision 0016).
      passthrough.setOriginalDstLbConfig(
          Cluster.OriginalDstLbConfig.newBuilder().setUseHttpHeader(true));
    }
    out.put(PASSTHROUGH, passthrough.build());
    out.put(
        INBOUND_PASSTHROUGH,
        Cluster.newBuilder()
            .setName(INBOUND_PASSTHROUGH)
            .setType(Cluster.DiscoveryType.ORIGINAL_DST)
            .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
            .setConnectTimeout(connectTimeout(push))
            .setUpstreamBindConfig(
                BindConfig.newBuilder()
                    .setSourceAddress(socket(INBOUND_BIND, 0).getSocketAddress()))
            .build());
  }

  /**
   * istiod's {@code addTelemetryMetadata} for an inbound cluster: {@code filter_metadata.istio
   * .services}, the services ({@code host}, {@code name}, {@code namespace}) of the proxy's
   * instances behind it, sorted by host; the stats filters take {@code destination_service} from it
   * (an inbound cluster's name carries no host, and TCP has no Host header).
   */
  static io.envoyproxy.envoy.config.core.v3.Metadata telemetryMetadata(
      PushContext push,
      java.util.List<Endpoint> instances,
      java.util.function.Predicate<Endpoint> behind) {
    java.util.TreeMap<String, com.google.protobuf.Value> services = new java.util.TreeMap<>();
    for (Endpoint e : instances) {
      if (!behind.test(e) || services.containsKey(e.hostname())) {
        continue;
      }
      var svc = push.registry().service(e.hostname());
      String name = svc.map(Service::name).orElse("");
      String namespace = svc.map(Service::namespace).orElse("");
      if (name.isEmpty()) {
        name = e.hostname().split("\\.", 2)[0];
        namespace = e.namespace();
      }
      services.put(
          e.hostname(),
          com.google.protobuf.Value.newBuilder()
              .setStructValue(
                  com.google.protobuf.Struct.newBuilder()
                      .putFields("host", text(e.hostname()))
                      .putFields("name", text(name))
                      .putFields("namespace", text(namespace)))
              .build());
    }
    if (services.isEmpty()) {
      return io.envoyproxy.envoy.config.core.v3.Metadata.getDefaultInstance();
    }
    return io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
        .putFilterMetadata(
            "istio",
            com.google.protobuf.Struct.newBuilder()
                .putFields(
                    "services",
                    com.google.protobuf.Value.newBuilder()
                        .setListValue(
                            com.google.protobuf.ListValue.newBuilder()
                                .addAllValues(services.values()))
                        .build())
                .build())
        .build();
  }

  private static com.google.protobuf.Value text(String s) {
    return com.google.protobuf.Value.newBuilder().setStringValue(s).build();
  }

  /** The load assignment of cluster {@code name} with one endpoint, {@code host:port}. */
  static ClusterLoadAssignment oneEndpoint(String name, String host, int port) {
    return ClusterLoadAssignment.newBuilder()
        .setClusterName(name)
        .addEndpoints(
            LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(
                    LbEndpoint.newBuilder()
                        .setEndpoint(
                            io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                                .setAddress(socket(host, port)))))
        .build();
  }

  static Address socket(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }
}
