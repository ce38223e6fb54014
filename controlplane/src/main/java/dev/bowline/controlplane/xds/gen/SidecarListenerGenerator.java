package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import dev.bowline.controlplane.model.MtlsMode;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.model.SidecarScope;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.xds.gen.authz.AuthzFilters;
import dev.bowline.controlplane.xds.gen.authz.CustomAuthz;
import dev.bowline.controlplane.xds.gen.telemetry.SidecarTelemetry;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * LDS for sidecars, as istiod with traffic capture (REDIRECT/TPROXY): {@code virtualOutbound} on
 * :15001 (MeshConfig {@code proxyListenPort}; original destination, unknown traffic to
 * PassthroughCluster or BlackHoleCluster by the outbound policy), {@code virtualInbound} on :15006
 * ({@code proxyInboundListenPort}) with one filter chain per inbound workload port plus a
 * passthrough chain, and one unbound outbound listener {@code 0.0.0.0_PORT} per visible service
 * port: an HTTP connection manager taking RDS {@code "PORT"} for HTTP protocols, a TCP proxy
 * otherwise. Without VIPs two TCP services can't share a port: the first hostname wins.
 *
 * <p>With {@code INTERCEPTION_MODE=NONE} (local mode) nothing redirects traffic, so instead each
 * inbound service port gets a bound listener {@code IP_PORT} on the workload's own address that
 * forwards to the app on its target port (from POD_PORTS; a port whose target equals the service
 * port gets none: it would forward to itself), and outbound traffic comes through the HTTP proxy
 * egress listener {@code IP_15001} bound on the workload's address, an HTTP connection manager
 * taking RDS {@code "15001"} (every visible HTTP service port, routed by Host), as istiod emits for
 * a Sidecar egress listener with {@code captureMode: NONE} and protocol {@code HTTP_PROXY}
 * (decision 0010).
 */
final class SidecarListenerGenerator implements XdsGenerator {
  static final String VIRTUAL_OUTBOUND = "virtualOutbound";
  static final String VIRTUAL_INBOUND = "virtualInbound";

  /**
   * The egress port of local mode: Istio's Sidecar egress listener {@code {port: {number: 15001,
   * protocol: HTTP_PROXY}, captureMode: NONE}} (decision 0010).
   */
  static final int HTTP_PROXY_PORT = 15001;

  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> all = new TreeMap<>();
    SidecarTelemetry telemetry = SidecarTelemetry.of(proxy, push);
    // RequestAuthentication (jwt_authn + istio_authn) then AuthorizationPolicy (RBAC) on every
    // inbound HTTP chain, istiod's order; network RBAC on TCP chains
    AuthzFilters rbac = AuthzFilters.build(push.authorizationPolicies(proxy), push.trustDomains());
    // CUSTOM (ext_authz) comes first, before request authentication, as istiod puts it
    CustomAuthz custom = CustomAuthz.of(proxy, push);
    AuthzFilters authz =
        new AuthzFilters(
            concat(custom.http(), concat(RequestAuthn.filters(proxy, push), rbac.http())),
            concat(custom.tcp(), rbac.tcp()));
    if (proxy.isLocalMode()) {
      for (InboundPort in : localInboundPorts(proxy, push)) {
        String name = proxy.ipAddress() + "_" + in.servicePort();
        Listener.Builder l =
            Listener.newBuilder()
                .setName(name)
                .setAddress(ClusterGenerator.socket(proxy.ipAddress(), in.servicePort()))
                .setTrafficDirection(TrafficDirection.INBOUND);
        MtlsMode mode = push.mtlsMode(proxy, in.targetPort());
        List<FilterChain> chains =
            inboundChains(in, false, mode, telemetry, push.trustDomains(), authz, push.mesh());
        if (in.protocol() == Protocol.UNSUPPORTED) {
          // protocol sniffing: the inspectors its chains need, and the detection timeout
          l.addAllListenerFilters(ProtocolSniffing.inspectorsFor(chains));
          ProtocolSniffing.detectionTimeout(l, push);
        } else if (mode != MtlsMode.DISABLE) {
          l.addListenerFilters(Security.tlsInspector());
        }
        l.addAllFilterChains(chains);
        all.put(name, l.build());
      }
    } else {
      all.put(VIRTUAL_OUTBOUND, virtualOutbound(proxy, push));
      all.put(VIRTUAL_INBOUND, virtualInbound(proxy, push, telemetry, authz));
      outboundPortListeners(proxy, push, telemetry).forEach(all::put);
    }
    // Sidecar egress listeners bound to an address (captureMode NONE or a bind).
    EgressListeners.bound(proxy, push, telemetry.outboundTcpStats()).forEach(all::putIfAbsent);
    // The HTTP proxy egress listener: from the Sidecar's HTTP_PROXY egress listener, or local
    // mode's default (decision 0010).
    push.scope(proxy)
        .httpProxyListener(proxy)
        .ifPresent(
            e -> {
              String proxyListener = e.bind() + "_" + e.port();
              all.put(
                  proxyListener,
                  Listener.newBuilder()
                      .setName(proxyListener)
                      .setAddress(ClusterGenerator.socket(e.bind(), e.port()))
                      .setTrafficDirection(TrafficDirection.OUTBOUND)
                      .addFilterChains(
                          FilterChain.newBuilder()
                              .setName(proxyListener)
                              .addFilters(
                                  Filters.hcmRds(
                                      "outbound_" + proxyListener,
                                      Integer.toString(e.port()),
                                      telemetry.outboundFilters(),
                                      telemetry.outboundLogs(),
                                      telemetry.outboundTracing(),
                                      push.mesh())))
                      .build());
            });
    SortedMap<String, Message> out = names.select(all);
    // istiod's access logs beside the connection managers': TCP proxies and the listeners' own
    telemetry.addAccessLogs(out, push.mesh());
    return out;
  }

  private static Listener virtualOutbound(Proxy proxy, PushContext push) {
    String cluster =
        push.outboundTrafficPolicy(proxy) == SidecarScope.OutboundTrafficPolicy.ALLOW_ANY
            ? ClusterGenerator.PASSTHROUGH
            : ClusterGenerator.BLACK_HOLE;
    Listener.Builder l =
        Listener.newBuilder()
            .setName(VIRTUAL_OUTBOUND)
            .setAddress(
                ClusterGenerator.socket("0.0.0.0", port(push.mesh().proxyListenPort(), 15001)))
            .setUseOriginalDst(BoolValue.of(true))
            .setTrafficDirection(TrafficDirection.OUTBOUND)
            .addFilterChains(
                FilterChain.newBuilder()
                    .setName("PassthroughFilterChain")
                    .addFilters(Filters.tcpProxy(cluster, cluster)));
    protocolDetectionTimeout(l, push);
    return l.build();
  }

  /** MeshConfig {@code proxyListenPort} / {@code proxyInboundListenPort}, else Istio's port. */
  private static int port(@org.jspecify.annotations.Nullable Integer mesh, int istio) {
    return mesh == null || mesh <= 0 ? istio : mesh;
  }

  /**
   * MeshConfig {@code protocolDetectionTimeout} (0, Istio's default, leaves the listener filters
   * without a timeout), as istiod sets it on the virtual listeners: after it the connection goes on
   * with what the listener filters found so far.
   */
  private static void protocolDetectionTimeout(Listener.Builder l, PushContext push) {
    java.time.Duration t = push.mesh().protocolDetectionTimeout();
    if (t != null && !t.isZero()) {
      l.setListenerFiltersTimeout(ClusterGenerator.proto(t))
          .setContinueOnListenerFiltersTimeout(true);
    }
  }

  private static Listener virtualInbound(
      Proxy proxy, PushContext push, SidecarTelemetry telemetry, AuthzFilters authz) {
    Listener.Builder l =
        Listener.newBuilder()
            .setName(VIRTUAL_INBOUND)
            .setAddress(
                ClusterGenerator.socket(
                    "0.0.0.0", port(push.mesh().proxyInboundListenPort(), 15006)))
            .setTrafficDirection(TrafficDirection.INBOUND)
            .addListenerFilters(
                ListenerFilter.newBuilder()
                    .setName("envoy.filters.listener.original_dst")
                    .setTypedConfig(Any.pack(OriginalDst.getDefaultInstance())))
            .addListenerFilters(Security.tlsInspector());
    protocolDetectionTimeout(l, push);
    List<Integer> sniffed =
        inboundPorts(proxy, push).values().stream()
            .filter(in -> in.protocol() == Protocol.UNSUPPORTED)
            .map(InboundPort::targetPort)
            .toList();
    if (!sniffed.isEmpty()) {
      // after the TLS inspector (a TLS connection is not sniffed), only on the sniffed ports
      l.addListenerFilters(ProtocolSniffing.httpInspector(sniffed));
    }
    for (InboundPort in : inboundPorts(proxy, push).values()) {
      l.addAllFilterChains(
          inboundChains(
              in,
              true,
              push.mtlsMode(proxy, in.targetPort()),
              telemetry,
              push.trustDomains(),
              authz,
              push.mesh()));
    }
    l.addFilterChains(
        FilterChain.newBuilder()
            .setName(VIRTUAL_INBOUND)
            .addAllFilters(authz.tcp())
            .addFilters(
                Filters.tcpProxy(
                    ClusterGenerator.INBOUND_PASSTHROUGH, ClusterGenerator.INBOUND_PASSTHROUGH)));
    return l.build();
  }

  /**
   * One workload port that receives traffic: by target port, with its service port and protocol.
   */
  record InboundPort(int targetPort, int servicePort, Protocol protocol, String hostname) {
    InboundPort(int targetPort, int servicePort, Protocol protocol) {
      this(targetPort, servicePort, protocol, "");
    }
  }

  private static Map<Integer, InboundPort> inboundPorts(Proxy proxy, PushContext push) {
    Map<Integer, InboundPort> out = new TreeMap<>();
    for (Endpoint e : push.serviceInstances(proxy)) {
      Protocol protocol =
          push.registry()
              .service(e.hostname())
              .flatMap(s -> s.port(e.servicePort()))
              .map(ServicePort::protocol)
              .orElse(Protocol.TCP);
      out.putIfAbsent(e.port(), new InboundPort(e.port(), e.servicePort(), protocol, e.hostname()));
    }
    return out;
  }

  /**
   * Local mode's inbound ports: each service port of the proxy's own instances, forwarding to the
   * app's port of the same name in POD_PORTS (the runner moves the app there), else to the
   * registry's endpoint port. A port whose target is the service port itself gets nothing: the app
   * holds that address and port, and a listener there would forward to itself.
   */
  static List<InboundPort> localInboundPorts(Proxy proxy, PushContext push) {
    Map<Integer, InboundPort> byServicePort = new TreeMap<>();
    List<SidecarScope.IngressListener> ingress = push.scope(proxy).ingressListeners();
    if (!ingress.isEmpty()) {
      // A Sidecar's ingress listeners replace the ones derived from the service instances.
      for (SidecarScope.IngressListener i : ingress) {
        if (i.targetPort() != i.port()) {
          byServicePort.putIfAbsent(
              i.port(),
              new InboundPort(
                  i.targetPort(),
                  i.port(),
                  i.protocol().isEmpty()
                      ? Protocol.fromPortName(i.portName())
                      : Protocol.parse(i.protocol())));
        }
      }
      return List.copyOf(byServicePort.values());
    }
    for (Endpoint e : push.serviceInstances(proxy)) {
      Optional<ServicePort> sp =
          push.registry().service(e.hostname()).flatMap(s -> s.port(e.servicePort()));
      Protocol protocol = sp.map(ServicePort::protocol).orElse(Protocol.TCP);
      int target = sp.map(p -> proxy.podPorts().get(p.name())).orElse(e.port());
      if (target == e.servicePort()) {
        continue;
      }
      byServicePort.putIfAbsent(
          e.servicePort(), new InboundPort(target, e.servicePort(), protocol, e.hostname()));
    }
    return List.copyOf(byServicePort.values());
  }

  /**
   * The inbound chains of one port by its PeerAuthentication mode, as istiod builds them: STRICT
   * one TLS chain (the sidecar certificate, client certificates required and checked against
   * ROOTCA), DISABLE one plaintext chain, PERMISSIVE both, told apart by {@code transport_protocol}
   * from the tls_inspector.
   */
  private static List<FilterChain> inboundChains(
      InboundPort in,
      boolean matchPort,
      MtlsMode mode,
      SidecarTelemetry telemetry,
      List<String> trustDomains,
      AuthzFilters authz,
      dev.bowline.api.mesh.MeshConfig mesh) {
    if (in.protocol() == Protocol.UNSUPPORTED) {
      return ProtocolSniffing.inbound(
          mode,
          inboundChain(in, matchPort, telemetry, authz, true, mesh),
          inboundChain(in, matchPort, telemetry, authz, false, mesh),
          Security.socket(
              Security.inbound(
                  Security.INBOUND_HTTP_ALPN, trustDomains, Security.inboundTlsParams(mesh))),
          Security.socket(
              Security.inbound(List.of(), trustDomains, Security.inboundTlsParams(mesh))));
    }
    FilterChain plain = inboundChain(in, matchPort, telemetry, authz, mesh);
    if (mode == MtlsMode.DISABLE) {
      return List.of(plain);
    }
    FilterChainMatch.Builder tlsMatch =
        plain.getFilterChainMatch().toBuilder().setTransportProtocol("tls");
    FilterChain tls =
        plain.toBuilder()
            .setFilterChainMatch(tlsMatch)
            .setTransportSocket(
                Security.socket(
                    Security.inbound(
                        in.protocol().isHttp()
                            ? Security.INBOUND_HTTP_ALPN
                            : Security.INBOUND_TCP_ALPN,
                        trustDomains,
                        Security.inboundTlsParams(mesh))))
            .build();
    if (mode == MtlsMode.STRICT) {
      return List.of(tls);
    }
    FilterChainMatch.Builder rawMatch =
        plain.getFilterChainMatch().toBuilder().setTransportProtocol("raw_buffer");
    return List.of(tls, plain.toBuilder().setFilterChainMatch(rawMatch).build());
  }

  /** istiod's inbound default route, named for tracing by its service ({@code host:port/*}). */
  private static Route.Builder inboundRoute(InboundPort in) {
    Route.Builder r =
        Route.newBuilder().setName("default").setMatch(RouteMatch.newBuilder().setPrefix("/"));
    if (!in.hostname().isEmpty()) {
      r.setDecorator(HttpRoutes.defaultOperation(in.hostname(), in.servicePort()));
    }
    return r;
  }

  private static FilterChain inboundChain(
      InboundPort in,
      boolean matchPort,
      SidecarTelemetry telemetry,
      AuthzFilters authz,
      dev.bowline.api.mesh.MeshConfig mesh) {
    return inboundChain(in, matchPort, telemetry, authz, in.protocol().isHttp(), mesh);
  }

  private static FilterChain inboundChain(
      InboundPort in,
      boolean matchPort,
      SidecarTelemetry telemetry,
      AuthzFilters authz,
      boolean http,
      dev.bowline.api.mesh.MeshConfig mesh) {
    String cluster = ClusterName.inbound(in.targetPort());
    String name = "0.0.0.0_" + in.targetPort();
    Filter filter;
    if (http) {
      RouteConfiguration routes =
          RouteConfiguration.newBuilder()
              .setName(cluster)
              .setValidateClusters(BoolValue.of(false))
              .addVirtualHosts(
                  VirtualHost.newBuilder()
                      .setName("inbound|http|" + in.servicePort())
                      .addDomains("*")
                      .addRoutes(
                          inboundRoute(in)
                              .setRoute(
                                  RouteAction.newBuilder()
                                      .setCluster(cluster)
                                      .setTimeout(
                                          com.google.protobuf.Duration.getDefaultInstance()))))
              .build();
      // telemetry first (it sees authn's 401s and RBAC's 403s), then authn and authorization,
      // then the policy filters
      filter =
          Filters.hcmInline(
              "inbound_" + name,
              routes,
              concat(telemetry.inboundFilters(), authz.http()),
              telemetry.inboundLogs(),
              telemetry.inboundTracing(),
              mesh);
    } else {
      filter = Filters.tcpProxy(cluster, cluster);
    }
    FilterChain.Builder chain = FilterChain.newBuilder().setName(name);
    if (!http) {
      // TCP metadata exchange, network RBAC, TCP stats (istiod's order)
      chain.addAllFilters(telemetry.inboundTcp(authz.tcp()));
    }
    chain.addFilters(filter);
    if (matchPort) {
      chain.setFilterChainMatch(
          FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(in.targetPort())));
    }
    return chain.build();
  }

  private static Map<String, Listener> outboundPortListeners(
      Proxy proxy, PushContext push, SidecarTelemetry telemetry) {
    // Per port: HTTP wins over TCP (one RDS covers every HTTP service on it); else the first TCP
    // service by hostname.
    // A port with an undeclared protocol, or with both HTTP and TCP services, sniffs: the TCP
    // chains of its first non-HTTP service and the HTTP chain, told apart by the HTTP inspector.
    Map<Integer, Service> tcp = new TreeMap<>();
    Map<Integer, Boolean> http = new TreeMap<>();
    java.util.Set<Integer> sniffed = new java.util.TreeSet<>();
    for (Service s : push.visibleServices(proxy)) {
      for (ServicePort p : s.ports()) {
        if (p.protocol().isHttp()) {
          http.put(p.port(), true);
        } else {
          tcp.putIfAbsent(p.port(), s);
        }
        if (p.protocol() == Protocol.UNSUPPORTED) {
          sniffed.add(p.port());
        }
      }
    }
    Map<String, Listener> out = new LinkedHashMap<>();
    java.util.Set<Integer> ports = new java.util.TreeSet<>(http.keySet());
    ports.addAll(tcp.keySet());
    for (int port : ports) {
      String name = "0.0.0.0_" + port;
      FilterChain httpChain =
          FilterChain.newBuilder()
              .setName(name)
              .addFilters(
                  Filters.hcmRds(
                      "outbound_" + name,
                      Integer.toString(port),
                      telemetry.outboundFilters(),
                      telemetry.outboundLogs(),
                      telemetry.outboundTracing(),
                      push.mesh()))
              .build();
      Listener.Builder l =
          Listener.newBuilder()
              .setName(name)
              .setAddress(ClusterGenerator.socket("0.0.0.0", port))
              .setBindToPort(BoolValue.of(false))
              .setTrafficDirection(TrafficDirection.OUTBOUND);
      if (tcp.containsKey(port) && (sniffed.contains(port) || http.containsKey(port))) {
        ProtocolSniffing.outbound(
            l,
            httpChain,
            L4Routes.chains(tcp.get(port), port, proxy, push, name, telemetry.outboundTcpStats()),
            push);
        out.put(name, l.build());
        continue;
      }
      if (http.containsKey(port)) {
        // istiod 1.16 (sniffing on for outbound): the HTTP chain takes what the HTTP inspector
        // finds to be HTTP; anything else to a port of an HTTP service passes through
        ProtocolSniffing.outbound(
            l,
            httpChain,
            List.of(passthroughChain(proxy, push, telemetry.outboundTcpStats())),
            push);
        out.put(name, l.build());
        continue;
      }
      // VirtualService tls/tcp routes (SNI chains, weighted tcp_proxy).
      List<FilterChain> chains =
          L4Routes.chains(tcp.get(port), port, proxy, push, name, telemetry.outboundTcpStats());
      l.addAllFilterChains(chains);
      if (L4Routes.needsTlsInspector(chains)) {
        l.addListenerFilters(L4Routes.tlsInspector());
      }
      out.put(name, l.build());
    }
    return out;
  }

  /**
   * istiod's {@code PassthroughFilterChain} on outbound port listeners: the client-side TCP stats,
   * then a TCP proxy to PassthroughCluster (BlackHoleCluster under REGISTRY_ONLY).
   */
  private static FilterChain passthroughChain(
      Proxy proxy, PushContext push, List<io.envoyproxy.envoy.config.listener.v3.Filter> stats) {
    String cluster =
        push.outboundTrafficPolicy(proxy) == SidecarScope.OutboundTrafficPolicy.ALLOW_ANY
            ? ClusterGenerator.PASSTHROUGH
            : ClusterGenerator.BLACK_HOLE;
    return FilterChain.newBuilder()
        .setFilterChainMatch(io.envoyproxy.envoy.config.listener.v3.FilterChainMatch.newBuilder())
        .setName("PassthroughFilterChain")
        .addAllFilters(stats)
        .addFilters(Filters.tcpProxy(cluster, cluster))
        .build();
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    if (b.isEmpty()) {
      return a;
    }
    List<T> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
