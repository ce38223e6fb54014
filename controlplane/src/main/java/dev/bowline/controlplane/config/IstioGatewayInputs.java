package dev.bowline.controlplane.config;

import dev.bowline.api.Resource;
import dev.bowline.api.model.Gateway;
import dev.bowline.api.model.KubernetesSecret;
import dev.bowline.api.model.ServerTLSSettings;
import dev.bowline.api.model.VirtualService;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.CredentialSecret;
import dev.bowline.controlplane.model.GatewayServer;
import dev.bowline.controlplane.model.GatewayTls;
import dev.bowline.controlplane.model.GatewayVirtualService;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.registry.Protocol;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The Gateway side of one {@link ConfigSnapshot}, as istiod's PushContext indexes it:
 *
 * <ul>
 *   <li>Gateways of every namespace whose {@code selector} is a subset of a gateway proxy's labels
 *       (istiod's default, {@code PILOT_SCOPE_GATEWAY_TO_NAMESPACE=false}); a Gateway with an empty
 *       selector selects nothing here, as a missing selector is invalid.
 *   <li>VirtualServices by the gateways they name in {@code spec.gateways}: {@code name} is in the
 *       VirtualService's namespace, {@code ns/name} is explicit, {@code mesh} is the sidecars' and
 *       never a gateway's. Only those exported ({@code exportTo}) to the gateway proxy's namespace
 *       count, as in istiod.
 * </ul>
 *
 * Immutable; built once per config snapshot.
 */
final class IstioGatewayInputs implements ConfigInputs.Gateways {
  private final IstioConfigInputs routes;
  private final List<Resource<Gateway>> gateways;
  private final Map<String, List<Resource<VirtualService>>> byGateway = new HashMap<>();
  private final Map<String, CredentialSecret> secrets = new HashMap<>();

  IstioGatewayInputs(ConfigSnapshot snapshot, IstioConfigInputs routes) {
    this.routes = routes;
    Comparator<Resource<?>> order =
        Comparator.comparing((Resource<?> r) -> r.namespace()).thenComparing(Resource::name);
    this.gateways = snapshot.list(Gateway.class).stream().sorted(order).toList();
    for (Resource<KubernetesSecret> sec : snapshot.list(KubernetesSecret.class)) {
      // only valid Secrets reach the snapshot (the store validates PEM and key/certificate match)
      KubernetesSecret k = sec.spec();
      var cert = k.certificate();
      secrets.put(
          sec.namespace() + "/" + sec.name(),
          new CredentialSecret(
              cert.map(KubernetesSecret.CertificateAndKey::chainPem),
              cert.map(KubernetesSecret.CertificateAndKey::keyPem),
              k.caCertificates().map(KubernetesSecret.CaBundle::pem)));
    }
    List<Resource<VirtualService>> vss =
        snapshot.list(VirtualService.class).stream().sorted(order).toList();
    for (Resource<VirtualService> vs : vss) {
      for (String g : vs.spec().gateways()) {
        String key = IstioConfigInputs.gatewayKey(g, vs.namespace());
        if (!key.equals(IstioConfigInputs.MESH)) {
          List<Resource<VirtualService>> list =
              byGateway.computeIfAbsent(key, k -> new ArrayList<>());
          if (!list.contains(vs)) {
            list.add(vs);
          }
        }
      }
    }
  }

  @Override
  public List<GatewayServer> servers(Proxy proxy) {
    List<GatewayServer> out = new ArrayList<>();
    for (Resource<Gateway> g : gateways) {
      Map<String, String> selector = g.spec().selector();
      if (selector.isEmpty() || !proxy.labels().entrySet().containsAll(selector.entrySet())) {
        continue;
      }
      String key = g.namespace() + "/" + g.name();
      List<Gateway.Server> servers = g.spec().servers();
      for (int i = 0; i < servers.size(); i++) {
        Gateway.Server s = servers.get(i);
        if (s.port() == null || s.port().number() == null) {
          continue; // rejected by validation; never reaches here from the store
        }
        List<String> hosts = new ArrayList<>();
        for (String h : s.hosts()) {
          hosts.add(h.contains("/") ? h : "*/" + h);
        }
        String protocol = s.port().protocol() == null ? "" : s.port().protocol();
        out.add(
            new GatewayServer(
                key,
                i,
                s.port().number(),
                s.port().name() == null ? "" : s.port().name(),
                Protocol.parse(protocol.toUpperCase(Locale.ROOT)),
                s.bind() == null ? "" : s.bind(),
                hosts,
                s.tls() == null || s.tls().mode() == null ? "" : s.tls().mode().name(),
                java.util.Optional.ofNullable(s.tls()).map(IstioGatewayInputs::tls)));
      }
    }
    return out;
  }

  private static GatewayTls tls(ServerTLSSettings t) {
    return new GatewayTls(
        t.mode() == null ? "" : t.mode().name(),
        Boolean.TRUE.equals(t.httpsRedirect()),
        orEmpty(t.credentialName()),
        orEmpty(t.serverCertificate()),
        orEmpty(t.privateKey()),
        orEmpty(t.caCertificates()),
        t.subjectAltNames(),
        t.verifyCertificateSpki(),
        t.verifyCertificateHash(),
        t.minProtocolVersion() == null ? "" : t.minProtocolVersion().name(),
        t.maxProtocolVersion() == null ? "" : t.maxProtocolVersion().name(),
        t.cipherSuites());
  }

  private static String orEmpty(@org.jspecify.annotations.Nullable String s) {
    return s == null ? "" : s;
  }

  @Override
  public java.util.Optional<CredentialSecret> secret(String namespace, String name) {
    return java.util.Optional.ofNullable(secrets.get(namespace + "/" + name));
  }

  @Override
  public List<GatewayVirtualService> virtualServices(GatewayServer server, Proxy proxy) {
    List<GatewayVirtualService> out = new ArrayList<>();
    for (Resource<VirtualService> vs : byGateway.getOrDefault(server.gateway(), List.of())) {
      if (!IstioConfigInputs.exported(vs.spec().exportTo(), vs.namespace(), proxy.namespace())) {
        continue;
      }
      List<String> hosts =
          vs.spec().hosts().stream().map(h -> routes.fqdn(h, vs.namespace())).toList();
      List<HttpRoute> http = routes.httpRoutes(vs, server.port(), proxy, server.gateway());
      out.add(
          new GatewayVirtualService(
              vs.namespace(),
              vs.name(),
              hosts,
              http,
              tcp(vs, server, proxy),
              tlsRoutes(vs, server, proxy)));
    }
    return out;
  }

  /** The TLS routes of {@code vs} that apply to the server (port, gateway, source labels). */
  private List<GatewayVirtualService.TlsRoute> tlsRoutes(
      Resource<VirtualService> vs, GatewayServer server, Proxy proxy) {
    List<GatewayVirtualService.TlsRoute> out = new ArrayList<>();
    for (VirtualService.TLSRoute r : vs.spec().tls()) {
      List<String> sni = new ArrayList<>();
      boolean applies = false;
      for (VirtualService.TLSMatchAttributes m : r.match()) {
        if (l4MatchApplies(vs, m.gateways(), m.port(), m.sourceLabels(), server, proxy)) {
          applies = true;
          sni.addAll(m.sniHosts());
        }
      }
      if (!applies) {
        continue;
      }
      out.add(new GatewayVirtualService.TlsRoute(sni, destinations(vs, r.route())));
    }
    return out;
  }

  private List<HttpRoute.Destination> destinations(
      Resource<VirtualService> vs, List<VirtualService.RouteDestination> route) {
    List<HttpRoute.Destination> out = new ArrayList<>();
    for (VirtualService.RouteDestination d : route) {
      int weight = d.weight() == null ? (route.size() == 1 ? 100 : 0) : d.weight();
      if (d.destination() == null || weight <= 0) {
        continue;
      }
      var dest = d.destination();
      out.add(
          new HttpRoute.Destination(
              routes.fqdn(dest.host(), vs.namespace()),
              dest.port() == null || dest.port().number() == null ? 0 : dest.port().number(),
              dest.subset() == null ? "" : dest.subset(),
              weight));
    }
    return out;
  }

  /**
   * Whether a TLS or TCP match of {@code vs} with these {@code gateways} (none: the
   * VirtualService's), {@code port} and {@code sourceLabels} applies to the server and proxy.
   */
  private static boolean l4MatchApplies(
      Resource<VirtualService> vs,
      List<String> gateways,
      @Nullable Integer port,
      Map<String, String> sourceLabels,
      GatewayServer server,
      Proxy proxy) {
    List<String> gws = gateways.isEmpty() ? vs.spec().gateways() : gateways;
    return (port == null || port == server.port())
        && gws.stream()
            .anyMatch(g -> IstioConfigInputs.gatewayKey(g, vs.namespace()).equals(server.gateway()))
        && proxy.labels().entrySet().containsAll(sourceLabels.entrySet());
  }

  /** The destinations of the first TCP route of {@code vs} that applies to the server. */
  private List<HttpRoute.Destination> tcp(
      Resource<VirtualService> vs, GatewayServer server, Proxy proxy) {
    for (VirtualService.TCPRoute r : vs.spec().tcp()) {
      boolean applies = r.match().isEmpty();
      for (VirtualService.L4MatchAttributes m : r.match()) {
        if (l4MatchApplies(vs, m.gateways(), m.port(), m.sourceLabels(), server, proxy)) {
          applies = true;
          break;
        }
      }
      if (!applies) {
        continue;
      }
      return destinations(vs, r.route());
    }
    return List.of();
  }
}
