package dev.bowline.controlplane.config;

import dev.bowline.api.Resource;
import dev.bowline.api.model.ClientTLSSettings;
import dev.bowline.api.model.DestinationRule;
import dev.bowline.api.model.PeerAuthentication;
import dev.bowline.api.model.Percent;
import dev.bowline.api.model.Sidecar;
import dev.bowline.api.model.StringMatch;
import dev.bowline.api.model.VirtualService;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.model.ClientTls;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.model.HttpRoute;
import dev.bowline.controlplane.model.L4Route;
import dev.bowline.controlplane.model.MtlsMode;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.SidecarScope;
import dev.bowline.controlplane.model.TrafficPolicy;
import dev.bowline.controlplane.registry.Service;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@link ConfigInputs} of one {@link ConfigSnapshot}, indexed once, as istiod's PushContext
 * indexes VirtualServices, DestinationRules and Sidecars:
 *
 * <ul>
 *   <li>VirtualServices bound to the mesh (no {@code gateways}, or {@code mesh}) by host; short
 *       hosts resolve in the VirtualService's namespace, {@code *.suffix} matches by suffix; {@code
 *       exportTo} ({@code *} by default, {@code .} its own namespace) limits who sees it; which one
 *       serves a host and how delegates expand is {@link VirtualServiceIndex}'s. Matches for other
 *       gateways, source labels or source namespaces than the proxy's are dropped per proxy; {@code
 *       tcp} and {@code tls} routes are resolved the same way.
 *   <li>DestinationRules by host (exact, else the most specific wildcard), the first namespace that
 *       has a visible one winning: the proxy's, then the service's, then the root namespace; rules
 *       of that namespace for the same host are merged (subsets of later rules added unless the
 *       name is taken, the first traffic policy kept), as istiod does.
 *   <li>Sidecars: the one in the proxy's namespace whose workloadSelector matches its labels, else
 *       the namespace's without selector, else the root namespace's, else Istio's default.
 * </ul>
 *
 * Immutable; lookups allocate only their result.
 */
public final class IstioConfigInputs {
  /** Istio's default root namespace. */
  public static final String ROOT_NAMESPACE = "istio-system";

  private final String domainSuffix;
  private final String rootNamespace;
  private final VirtualServiceIndex vsIndex;
  private final Map<String, List<Resource<DestinationRule>>> rulesByHost = new HashMap<>();
  private final List<Resource<Sidecar>> sidecars;
  private final List<Resource<PeerAuthentication>> peerAuthentications;
  private final List<Resource<dev.bowline.api.model.Telemetry>> telemetries;

  private IstioConfigInputs(ConfigSnapshot snapshot, String domainSuffix, String rootNamespace) {
    this.domainSuffix = domainSuffix;
    this.rootNamespace = rootNamespace;
    this.vsIndex = new VirtualServiceIndex(snapshot.list(VirtualService.class), this::fqdn);
    for (Resource<DestinationRule> dr : snapshot.list(DestinationRule.class)) {
      rulesByHost
          .computeIfAbsent(fqdn(dr.spec().host(), dr.namespace()), h -> new ArrayList<>())
          .add(dr);
    }
    this.sidecars = snapshot.list(Sidecar.class);
    // Istio takes the oldest when several apply; without creation times, the first by name.
    this.peerAuthentications =
        snapshot.list(PeerAuthentication.class).stream()
            .sorted(
                java.util.Comparator.comparing((Resource<PeerAuthentication> r) -> r.namespace())
                    .thenComparing(Resource::name))
            .toList();
    this.telemetries = snapshot.list(dev.bowline.api.model.Telemetry.class);
    this.requestAuthentications =
        snapshot.list(dev.bowline.api.model.RequestAuthentication.class).stream()
            .sorted(
                java.util.Comparator.comparing(
                        (Resource<dev.bowline.api.model.RequestAuthentication> r) -> r.namespace())
                    .thenComparing(Resource::name))
            .toList();
    this.authorizationPolicies =
        snapshot.list(dev.bowline.api.model.AuthorizationPolicy.class).stream()
            .sorted(
                java.util.Comparator.comparing(
                        (Resource<dev.bowline.api.model.AuthorizationPolicy> r) -> r.namespace())
                    .thenComparing(Resource::name))
            .toList();
    // istiod's order: priority, then (creation time, which Bowline's store has not) name.namespace
    this.envoyFilters =
        snapshot.list(dev.bowline.api.model.EnvoyFilter.class).stream()
            .sorted(
                java.util.Comparator.comparing(
                        (Resource<dev.bowline.api.model.EnvoyFilter> f) ->
                            f.spec().priority() == null ? 0 : f.spec().priority())
                    .thenComparing(f -> f.name() + "." + f.namespace()))
            .toList();
  }

  private final List<Resource<dev.bowline.api.model.EnvoyFilter>> envoyFilters;
  private final List<Resource<dev.bowline.api.model.RequestAuthentication>> requestAuthentications;

  // ---- RequestAuthentication

  /**
   * istiod's {@code getConfigsForWorkload}: policies of the workload's namespace, then of the root
   * namespace, each applying when its selector (none: every workload) matches the labels. Policies
   * with targetRefs (gateways by reference) are not applied by selector.
   */
  List<Resource<dev.bowline.api.model.RequestAuthentication>> requestAuthentications(
      String namespace, Map<String, String> labels) {
    List<Resource<dev.bowline.api.model.RequestAuthentication>> out = new ArrayList<>();
    for (String ns :
        namespace.equals(rootNamespace) ? List.of(namespace) : List.of(namespace, rootNamespace)) {
      for (var ra : requestAuthentications) {
        if (!ra.namespace().equals(ns)
            || ra.spec().targetRef() != null
            || !ra.spec().targetRefs().isEmpty()) {
          continue;
        }
        var selector = ra.spec().selector();
        if (selector == null || labels.entrySet().containsAll(selector.matchLabels().entrySet())) {
          out.add(ra);
        }
      }
    }
    return out;
  }

  // ---- EnvoyFilter

  /**
   * istiod's selection: an EnvoyFilter in the root namespace applies to every proxy, one in another
   * namespace to that namespace's proxies; a workloadSelector must match the proxy's labels;
   * targetRefs (kind Gateway) select the gateway proxies of that Gateway API Gateway in the
   * filter's namespace, by their {@code gateway.networking.k8s.io/gateway-name} label.
   */
  List<ConfigInputs.EnvoyFilterPatch> envoyFilterPatches(Proxy proxy) {
    List<ConfigInputs.EnvoyFilterPatch> out = new ArrayList<>();
    for (Resource<dev.bowline.api.model.EnvoyFilter> f : envoyFilters) {
      var spec = f.spec();
      if (!f.namespace().equals(rootNamespace) && !f.namespace().equals(proxy.namespace())) {
        continue;
      }
      if (!spec.targetRefs().isEmpty() && !targetsProxy(f, proxy)) {
        continue;
      }
      var selector = spec.workloadSelector();
      if (selector != null
          && !proxy.labels().entrySet().containsAll(selector.labels().entrySet())) {
        continue;
      }
      for (int i = 0; i < spec.configPatches().size(); i++) {
        out.add(
            new ConfigInputs.EnvoyFilterPatch(
                f.namespace() + "/" + f.name(), i, spec.configPatches().get(i)));
      }
    }
    return out;
  }

  private static boolean targetsProxy(Resource<dev.bowline.api.model.EnvoyFilter> f, Proxy proxy) {
    for (var ref : f.spec().targetRefs()) {
      String ns =
          ref.namespace() == null || ref.namespace().isEmpty() ? f.namespace() : ref.namespace();
      if ("Gateway".equals(ref.kind())
          && ns.equals(f.namespace())
          && ns.equals(proxy.namespace())
          && ref.name() != null
          && ref.name().equals(proxy.labels().get("gateway.networking.k8s.io/gateway-name"))) {
        return true;
      }
    }
    return false;
  }

  /** The inputs of {@code snapshot} for a cluster with DNS domain {@code domainSuffix}. */
  public static ConfigInputs of(
      ConfigSnapshot snapshot, String domainSuffix, String rootNamespace) {
    return of(snapshot, domainSuffix, rootNamespace, dev.bowline.api.mesh.MeshConfig.defaults());
  }

  /** The inputs of {@code snapshot} under MeshConfig {@code mesh}. */
  public static ConfigInputs of(
      ConfigSnapshot snapshot,
      String domainSuffix,
      String rootNamespace,
      dev.bowline.api.mesh.MeshConfig mesh) {
    IstioConfigInputs in = new IstioConfigInputs(snapshot, domainSuffix, rootNamespace);
    ConfigInputs.VirtualServices vs =
        new ConfigInputs.VirtualServices() {
          @Override
          public Optional<List<HttpRoute>> httpRoutes(Service service, int port, Proxy proxy) {
            return in.httpRoutes(service, port, proxy);
          }

          @Override
          public Optional<L4Route> tcpRoute(Service service, int port, Proxy proxy) {
            return in.tcpRoute(service, port, proxy);
          }

          @Override
          public List<L4Route> tlsRoutes(Service service, int port, Proxy proxy) {
            return in.tlsRoutes(service, port, proxy);
          }
        };
    return new ConfigInputs(
        vs,
        in::trafficPolicy,
        in::scopeFor,
        new IstioGatewayInputs(snapshot, in),
        in::mtlsMode,
        in::envoyFilterPatches,
        () -> in.telemetries,
        in::requestAuthentications,
        in::authorizationPolicies);
  }

  // ---- VirtualService

  Optional<List<HttpRoute>> httpRoutes(Service service, int port, Proxy proxy) {
    Optional<Resource<VirtualService>> chosen =
        vsIndex.select(service.hostname(), proxy.namespace());
    if (chosen.isEmpty()) {
      return Optional.empty();
    }
    List<HttpRoute> out = new ArrayList<>();
    for (VirtualServiceIndex.Bound b : vsIndex.httpRoutes(chosen.get())) {
      translate(b.owner(), b.route(), port, proxy, MESH, out);
    }
    return out.isEmpty() ? Optional.empty() : Optional.of(out);
  }

  /** The reserved gateway name of the sidecars. */
  static final String MESH = "mesh";

  /**
   * The HTTP routes of {@code vs} as the proxy {@code proxy} serving {@code gateway} ({@code
   * namespace/name}, or {@link #MESH}) on {@code port} uses them: a match applies only if its
   * {@code port}, {@code gateways}, {@code sourceLabels} and {@code sourceNamespace} allow it, and
   * a rule none of whose matches applies is dropped, as istiod does.
   */
  List<HttpRoute> httpRoutes(Resource<VirtualService> vs, int port, Proxy proxy, String gateway) {
    List<HttpRoute> out = new ArrayList<>();
    for (VirtualService.HTTPRoute r : vs.spec().http()) {
      translate(vs, r, port, proxy, gateway, out);
    }
    return out;
  }

  /**
   * Whether a match with {@code gateways} applies at {@code gateway}: an empty list means the
   * VirtualService's own {@code gateways} (none: {@code mesh}).
   */
  private static boolean boundTo(
      List<String> gateways, Resource<VirtualService> vs, String gateway) {
    List<String> names = gateways.isEmpty() ? vs.spec().gateways() : gateways;
    if (names.isEmpty()) {
      return gateway.equals(MESH);
    }
    for (String g : names) {
      if (gatewayKey(g, vs.namespace()).equals(gateway)) {
        return true;
      }
    }
    return false;
  }

  /**
   * A {@code gateways} entry as {@code namespace/name}: {@code mesh} stays, {@code name} is in the
   * VirtualService's namespace, {@code ns/name} as is, and the old {@code name.ns.svc.suffix} form
   * becomes {@code ns/name}.
   */
  static String gatewayKey(String ref, String vsNamespace) {
    if (ref.equals(MESH) || ref.contains("/")) {
      return ref;
    }
    int dot = ref.indexOf('.');
    if (dot > 0) {
      String rest = ref.substring(dot + 1);
      int next = rest.indexOf('.');
      return (next < 0 ? rest : rest.substring(0, next)) + "/" + ref.substring(0, dot);
    }
    return vsNamespace + "/" + ref;
  }

  /**
   * istiod's per-proxy match filter: a match bound to gateways other than {@code mesh}, for other
   * source labels or another source namespace does not apply to this proxy.
   */
  static boolean appliesTo(
      List<String> gateways,
      Map<String, String> sourceLabels,
      @Nullable String sourceNamespace,
      Proxy proxy) {
    if (!gateways.isEmpty() && !gateways.contains("mesh")) {
      return false;
    }
    if (!proxy.labels().entrySet().containsAll(sourceLabels.entrySet())) {
      return false;
    }
    return sourceNamespace == null
        || sourceNamespace.isEmpty()
        || sourceNamespace.equals(proxy.namespace());
  }

  Optional<L4Route> tcpRoute(Service service, int port, Proxy proxy) {
    Optional<Resource<VirtualService>> chosen =
        vsIndex.select(service.hostname(), proxy.namespace());
    if (chosen.isEmpty()) {
      return Optional.empty();
    }
    Resource<VirtualService> vs = chosen.get();
    for (VirtualService.TCPRoute r : vs.spec().tcp()) {
      boolean matches = r.match().isEmpty();
      for (VirtualService.L4MatchAttributes m : r.match()) {
        if ((m.port() == null || m.port() == port)
            && m.destinationSubnets().isEmpty()
            && appliesTo(m.gateways(), m.sourceLabels(), m.sourceNamespace(), proxy)) {
          matches = true;
          break;
        }
      }
      if (matches) {
        List<HttpRoute.Destination> d = l4Destinations(vs, r.route());
        if (!d.isEmpty()) {
          return Optional.of(new L4Route(List.of(), d));
        }
      }
    }
    return Optional.empty();
  }

  List<L4Route> tlsRoutes(Service service, int port, Proxy proxy) {
    Optional<Resource<VirtualService>> chosen =
        vsIndex.select(service.hostname(), proxy.namespace());
    if (chosen.isEmpty()) {
      return List.of();
    }
    Resource<VirtualService> vs = chosen.get();
    List<L4Route> out = new ArrayList<>();
    for (VirtualService.TLSRoute r : vs.spec().tls()) {
      java.util.Set<String> sni = new java.util.LinkedHashSet<>();
      for (VirtualService.TLSMatchAttributes m : r.match()) {
        if ((m.port() == null || m.port() == port)
            && appliesTo(m.gateways(), m.sourceLabels(), m.sourceNamespace(), proxy)) {
          m.sniHosts().forEach(h -> sni.add(fqdn(h, vs.namespace())));
        }
      }
      List<HttpRoute.Destination> d = l4Destinations(vs, r.route());
      if (!sni.isEmpty() && !d.isEmpty()) {
        out.add(new L4Route(List.copyOf(sni), d));
      }
    }
    return out;
  }

  private List<HttpRoute.Destination> l4Destinations(
      Resource<VirtualService> vs, List<VirtualService.RouteDestination> route) {
    List<HttpRoute.Destination> out = new ArrayList<>();
    for (VirtualService.RouteDestination d : route) {
      int weight = d.weight() == null ? (route.size() == 1 ? 100 : 0) : d.weight();
      if (d.destination() != null && weight > 0) {
        out.add(destination(d.destination(), vs.namespace(), weight));
      }
    }
    return out;
  }

  private void translate(
      Resource<VirtualService> vs,
      VirtualService.HTTPRoute r,
      int port,
      Proxy proxy,
      String gateway,
      List<HttpRoute> out) {
    String name = r.name() == null ? "" : r.name();
    List<HttpRoute.Destination> destinations = new ArrayList<>();
    for (VirtualService.HTTPRouteDestination d : r.route()) {
      int weight = d.weight() == null ? (r.route().size() == 1 ? 100 : 0) : d.weight();
      if (d.destination() == null || weight <= 0) {
        continue; // istiod drops zero-weight destinations
      }
      HttpRoute.Destination dest = destination(d.destination(), vs.namespace(), weight);
      if (d.headers() != null) {
        dest =
            new HttpRoute.Destination(
                dest.host(), dest.port(), dest.subset(), dest.weight(), headerOps(d.headers()));
      }
      destinations.add(dest);
    }
    HttpRoute.Policy policy = policy(vs, r);
    if (destinations.isEmpty() && !policy.answersDirectly()) {
      return; // delegate: not translated yet
    }
    if (r.match().isEmpty()) {
      out.add(
          new HttpRoute(
              name, new HttpRoute.PathMatch.Prefix("/"), List.of(), destinations, policy));
      return;
    }
    for (VirtualService.HTTPMatchRequest m : r.match()) {
      if (m.port() != null && m.port() != port) {
        continue;
      }
      if (!boundTo(m.gateways(), vs, gateway)
          || !appliesTo(List.of(), m.sourceLabels(), m.sourceNamespace(), proxy)) {
        continue;
      }
      HttpRoute.PathMatch path = new HttpRoute.PathMatch.Prefix("/");
      StringMatch.Match uri = m.uri() == null ? null : m.uri().match();
      if (uri != null) {
        path =
            switch (uri) {
              case StringMatch.Exact e -> new HttpRoute.PathMatch.Exact(e.value());
              case StringMatch.Prefix p -> new HttpRoute.PathMatch.Prefix(p.value());
              case StringMatch.Regex x -> new HttpRoute.PathMatch.Regex(x.value());
            };
      }
      List<HttpRoute.HeaderMatch> headers = new ArrayList<>();
      // istiod: method, authority and scheme are pseudo-header matches.
      headerMatch(headers, ":method", m.method(), false);
      headerMatch(headers, ":authority", m.authority(), false);
      headerMatch(headers, ":scheme", m.scheme(), false);
      m.headers().forEach((header, match) -> headerMatch(headers, header, match, false));
      m.withoutHeaders().forEach((header, match) -> headerMatch(headers, header, match, true));
      String routeName =
          m.name() == null ? name : name.isEmpty() ? m.name() : name + "." + m.name();
      List<HttpRoute.HeaderMatch> query = new ArrayList<>();
      m.queryParams().forEach((param, match) -> headerMatch(query, param, match, false));
      out.add(
          new HttpRoute(
              routeName,
              path,
              headers,
              query,
              Boolean.TRUE.equals(m.ignoreUriCase()),
              destinations,
              policy));
    }
  }

  private static void headerMatch(
      List<HttpRoute.HeaderMatch> out, String name, @Nullable StringMatch match, boolean invert) {
    StringMatch.Match v = match == null ? null : match.match();
    if (v == null) {
      return;
    }
    HttpRoute.MatchKind kind =
        switch (v) {
          case StringMatch.Exact e -> HttpRoute.MatchKind.EXACT;
          case StringMatch.Prefix p -> HttpRoute.MatchKind.PREFIX;
          case StringMatch.Regex x -> HttpRoute.MatchKind.REGEX;
        };
    out.add(new HttpRoute.HeaderMatch(name, kind, v.value(), invert));
  }

  private HttpRoute.Policy policy(Resource<VirtualService> vs, VirtualService.HTTPRoute r) {
    HttpRoute.Retry retry = r.retries() == null ? null : HttpRoute.Retry.of(r.retries());
    HttpRoute.Fault fault = null;
    if (r.fault() != null) {
      VirtualService.HTTPFaultInjection f = r.fault();
      var delay = f.delay();
      var abort = f.abort();
      fault =
          new HttpRoute.Fault(
              delay == null ? null : delay.fixedDelay(),
              delay == null ? 0 : percent(delay.percentage(), delay.percent()),
              abort == null || abort.httpStatus() == null ? 0 : abort.httpStatus(),
              abort == null || abort.grpcStatus() == null ? -1 : grpcCode(abort.grpcStatus()),
              abort == null ? 0 : percent(abort.percentage(), null));
    }
    HttpRoute.Mirror mirror = null;
    if (r.mirror() != null) {
      mirror =
          new HttpRoute.Mirror(
              destination(r.mirror(), vs.namespace(), 1),
              percent(r.mirrorPercentage(), r.mirrorPercent()));
    }
    List<HttpRoute.Mirror> moreMirrors = new ArrayList<>();
    for (var m : r.mirrors()) {
      if (m.destination() == null) {
        continue;
      }
      var one =
          new HttpRoute.Mirror(
              destination(m.destination(), vs.namespace(), 1), percent(m.percentage(), null));
      if (mirror == null) {
        mirror = one;
      } else {
        moreMirrors.add(one);
      }
    }
    HttpRoute.Cors cors = null;
    if (r.corsPolicy() != null) {
      var c = r.corsPolicy();
      List<HttpRoute.HeaderMatch> origins = new ArrayList<>();
      if (!c.allowOrigins().isEmpty()) {
        for (StringMatch m : c.allowOrigins()) {
          headerMatch(origins, "origin", m, false);
        }
      } else {
        for (String o : c.allowOrigin()) {
          origins.add(new HttpRoute.HeaderMatch("origin", o));
        }
      }
      cors =
          new HttpRoute.Cors(
              origins,
              c.allowMethods(),
              c.allowHeaders(),
              c.exposeHeaders(),
              c.maxAge(),
              c.allowCredentials(),
              c.unmatchedPreflights() == null
                      || c.unmatchedPreflights()
                          == VirtualService.CorsPolicy.UnmatchedPreflights.UNSPECIFIED
                  ? null
                  : c.unmatchedPreflights()
                      == VirtualService.CorsPolicy.UnmatchedPreflights.FORWARD);
    }
    HttpRoute.Rewrite rewrite = null;
    if (r.rewrite() != null) {
      var w = r.rewrite();
      var rx = w.uriRegexRewrite();
      rewrite =
          new HttpRoute.Rewrite(
              w.uri(),
              rx == null ? null : rx.match(),
              rx == null ? null : rx.rewrite(),
              w.authority());
    }
    HttpRoute.Redirect redirect = null;
    if (r.redirect() != null) {
      var x = r.redirect();
      redirect =
          new HttpRoute.Redirect(
              x.uri(),
              x.authority(),
              x.port() == null ? 0 : x.port(),
              x.scheme(),
              x.redirectCode() == null ? 301 : x.redirectCode());
    }
    HttpRoute.DirectResponse direct = null;
    if (r.directResponse() != null) {
      var d = r.directResponse();
      direct =
          new HttpRoute.DirectResponse(
              d.status() == null ? 200 : d.status(), d.body() == null ? null : d.body().string());
    }
    HttpRoute.HeaderOps ops = r.headers() == null ? null : headerOps(r.headers());
    return new HttpRoute.Policy(
        r.timeout(), retry, fault, mirror, rewrite, redirect, direct, ops, moreMirrors, cors);
  }

  private static HttpRoute.HeaderOps headerOps(VirtualService.Headers headers) {
    var req = headers.request();
    var resp = headers.response();
    return new HttpRoute.HeaderOps(
        req == null ? Map.of() : req.set(),
        req == null ? Map.of() : req.add(),
        req == null ? List.of() : req.remove(),
        resp == null ? Map.of() : resp.set(),
        resp == null ? Map.of() : resp.add(),
        resp == null ? List.of() : resp.remove());
  }

  /** Istio: an unset percentage means 100%. */
  private static double percent(@Nullable Percent percentage, @Nullable Integer legacy) {
    if (percentage != null) {
      return percentage.value();
    }
    return legacy == null ? 100 : legacy;
  }

  private static int grpcCode(String status) {
    try {
      return io.grpc.Status.Code.valueOf(status).value();
    } catch (IllegalArgumentException e) {
      return Integer.parseInt(status);
    }
  }

  private HttpRoute.Destination destination(
      dev.bowline.api.model.Destination d, String namespace, int weight) {
    int port = d.port() == null || d.port().number() == null ? 0 : d.port().number();
    return new HttpRoute.Destination(
        fqdn(d.host(), namespace), port, d.subset() == null ? "" : d.subset(), weight);
  }

  // ---- AuthorizationPolicy

  private final List<Resource<dev.bowline.api.model.AuthorizationPolicy>> authorizationPolicies;

  /**
   * istiod's selection for a workload: policies of the root namespace (mesh-wide) and of the
   * workload's namespace whose selector is absent or matches its labels. Policies that name targets
   * ({@code targetRef(s)}) apply to gateways by reference, not to workloads by label.
   */
  List<Resource<dev.bowline.api.model.AuthorizationPolicy>> authorizationPolicies(
      String namespace, Map<String, String> labels) {
    List<Resource<dev.bowline.api.model.AuthorizationPolicy>> out = new ArrayList<>();
    for (var ap : authorizationPolicies) {
      if (!ap.namespace().equals(namespace) && !ap.namespace().equals(rootNamespace)) {
        continue;
      }
      var spec = ap.spec();
      if (spec.targetRef() != null || !spec.targetRefs().isEmpty()) {
        continue;
      }
      var sel = spec.selector();
      if (sel != null && !labels.entrySet().containsAll(sel.matchLabels().entrySet())) {
        continue;
      }
      out.add(ap);
    }
    return out;
  }

  // ---- PeerAuthentication

  /**
   * Istio's precedence: a workload-selecting policy in the workload's namespace, else the
   * namespace-wide one (no selector), else the mesh-wide one (root namespace, no selector); the
   * port-level mode of the workload policy first. UNSET (or absent) inherits from the next level;
   * with nothing set the mode is PERMISSIVE.
   */
  MtlsMode mtlsMode(String namespace, Map<String, String> labels, int port) {
    Resource<PeerAuthentication> workload = null;
    Resource<PeerAuthentication> ns = null;
    Resource<PeerAuthentication> mesh = null;
    for (Resource<PeerAuthentication> pa : peerAuthentications) {
      var sel = pa.spec().selector();
      boolean selects = sel != null && !sel.matchLabels().isEmpty();
      if (pa.namespace().equals(namespace)) {
        if (selects) {
          if (workload == null && labels.entrySet().containsAll(sel.matchLabels().entrySet())) {
            workload = pa;
          }
        } else if (ns == null) {
          ns = pa;
        }
      }
      if (pa.namespace().equals(rootNamespace) && !selects && mesh == null) {
        mesh = pa;
      }
    }
    if (workload != null) {
      var portLevel = workload.spec().portLevelMtls().get(Integer.toString(port));
      MtlsMode m = mode(portLevel);
      if (m != null) {
        return m;
      }
      m = mode(workload.spec().mtls());
      if (m != null) {
        return m;
      }
    }
    for (var level : java.util.Arrays.asList(ns, mesh)) {
      MtlsMode m = level == null ? null : mode(level.spec().mtls());
      if (m != null) {
        return m;
      }
    }
    return MtlsMode.PERMISSIVE;
  }

  private static @Nullable MtlsMode mode(PeerAuthentication.@Nullable MutualTLS mtls) {
    if (mtls == null || mtls.mode() == null) {
      return null;
    }
    return switch (mtls.mode()) {
      case UNSET -> null;
      case STRICT -> MtlsMode.STRICT;
      case PERMISSIVE -> MtlsMode.PERMISSIVE;
      case DISABLE -> MtlsMode.DISABLE;
    };
  }

  // ---- DestinationRule

  Optional<TrafficPolicy> trafficPolicy(Service service, Proxy proxy) {
    List<Resource<DestinationRule>> rules = rulesByHost.get(service.hostname());
    if (rules == null) {
      // istiod: without an exact host, the most specific wildcard host ({@code *.example.com}).
      String best = null;
      for (String h : rulesByHost.keySet()) {
        if ((h.equals("*") || (h.startsWith("*.") && service.hostname().endsWith(h.substring(1))))
            && (best == null || h.length() > best.length())) {
          best = h;
        }
      }
      rules = best == null ? null : rulesByHost.get(best);
    }
    if (rules == null) {
      return Optional.empty();
    }
    for (String ns : List.of(proxy.namespace(), service.namespace(), rootNamespace)) {
      List<Resource<DestinationRule>> inNs = new ArrayList<>();
      for (Resource<DestinationRule> dr : rules) {
        if (dr.namespace().equals(ns)
            && exported(dr.spec().exportTo(), dr.namespace(), proxy.namespace())
            && selects(dr.spec().workloadSelector(), dr.namespace(), proxy)) {
          inNs.add(dr);
        }
      }
      if (!inNs.isEmpty()) {
        return Optional.of(merge(inNs));
      }
    }
    return Optional.empty();
  }

  private static boolean selects(
      dev.bowline.api.model.@Nullable LabelSelector selector, String namespace, Proxy proxy) {
    if (selector == null || selector.matchLabels().isEmpty()) {
      return true;
    }
    return namespace.equals(proxy.namespace())
        && proxy.labels().entrySet().containsAll(selector.matchLabels().entrySet());
  }

  private static TrafficPolicy merge(List<Resource<DestinationRule>> rules) {
    DestinationRule.TrafficPolicy policy = null;
    for (Resource<DestinationRule> dr : rules) {
      if (policy == null) {
        policy = dr.spec().trafficPolicy();
      }
    }
    TrafficPolicy.LoadBalancer top = lb(policy, TrafficPolicy.LoadBalancer.ROUND_ROBIN);
    TrafficPolicy.ClusterSettings settings = settings(policy);
    Map<Integer, TrafficPolicy.PortLevel> ports = ports(policy);
    Map<String, TrafficPolicy.Subset> subsets = new LinkedHashMap<>();
    for (Resource<DestinationRule> dr : rules) {
      for (DestinationRule.Subset s : dr.spec().subsets()) {
        // What a subset's policy does not set, it inherits from the rule's.
        Map<Integer, TrafficPolicy.PortLevel> own = ports(s.trafficPolicy());
        subsets.putIfAbsent(
            s.name(),
            new TrafficPolicy.Subset(
                s.name(),
                s.labels(),
                lb(s.trafficPolicy(), top),
                settings(s.trafficPolicy()).over(settings),
                own.isEmpty() ? ports : own));
      }
    }
    return new TrafficPolicy(top, List.copyOf(subsets.values()), settings, ports);
  }

  private static Map<Integer, TrafficPolicy.PortLevel> ports(
      DestinationRule.@Nullable TrafficPolicy policy) {
    if (policy == null || policy.portLevelSettings().isEmpty()) {
      return Map.of();
    }
    Map<Integer, TrafficPolicy.PortLevel> out = new HashMap<>();
    for (var p : policy.portLevelSettings()) {
      if (p.port() == null || p.port().number() == null) {
        continue;
      }
      // The same shape as a traffic policy, so the same translation.
      DestinationRule.TrafficPolicy asPolicy =
          new DestinationRule.TrafficPolicy(
              p.loadBalancer(),
              p.connectionPool(),
              p.outlierDetection(),
              p.tls(),
              List.of(),
              null,
              null,
              null);
      out.putIfAbsent(
          p.port().number(),
          new TrafficPolicy.PortLevel(
              p.loadBalancer() != null,
              lb(asPolicy, TrafficPolicy.LoadBalancer.ROUND_ROBIN),
              settings(asPolicy)));
    }
    return out;
  }

  private static TrafficPolicy.ClusterSettings settings(DestinationRule.@Nullable TrafficPolicy p) {
    if (p == null) {
      return TrafficPolicy.ClusterSettings.NONE;
    }
    TrafficPolicy.ConsistentHash hash = null;
    var ch = p.loadBalancer() == null ? null : p.loadBalancer().consistentHash();
    if (ch != null) {
      TrafficPolicy.HashKey key;
      String name = "";
      java.time.Duration ttl = null;
      String path = "";
      if (ch.httpHeaderName() != null) {
        key = TrafficPolicy.HashKey.HEADER;
        name = ch.httpHeaderName();
      } else if (ch.httpCookie() != null) {
        key = TrafficPolicy.HashKey.COOKIE;
        name = ch.httpCookie().name() == null ? "" : ch.httpCookie().name();
        ttl = ch.httpCookie().ttl();
        path = ch.httpCookie().path() == null ? "" : ch.httpCookie().path();
      } else if (ch.httpQueryParameterName() != null) {
        key = TrafficPolicy.HashKey.QUERY_PARAMETER;
        name = ch.httpQueryParameterName();
      } else {
        key = TrafficPolicy.HashKey.SOURCE_IP;
      }
      boolean maglev = ch.maglev() != null;
      long size = 0;
      if (maglev && ch.maglev().tableSize() != null) {
        size = ch.maglev().tableSize();
      } else if (ch.ringHash() != null && ch.ringHash().minimumRingSize() != null) {
        size = ch.ringHash().minimumRingSize();
      } else if (ch.minimumRingSize() != null) {
        size = ch.minimumRingSize();
      }
      hash = new TrafficPolicy.ConsistentHash(key, name, ttl, path, maglev, size);
    }
    TrafficPolicy.CircuitBreakers breakers = null;
    java.time.Duration connectTimeout = null;
    var pool = p.connectionPool();
    if (pool != null) {
      var tcp = pool.tcp();
      var http = pool.http();
      connectTimeout = tcp == null ? null : tcp.connectTimeout();
      breakers =
          new TrafficPolicy.CircuitBreakers(
              tcp == null ? 0 : orZero(tcp.maxConnections()),
              http == null ? 0 : orZero(http.http1MaxPendingRequests()),
              http == null ? 0 : orZero(http.http2MaxRequests()),
              http == null ? 0 : orZero(http.maxRetries()),
              http == null ? 0 : orZero(http.maxRequestsPerConnection()));
    }
    TrafficPolicy.OutlierDetection outlier = null;
    var od = p.outlierDetection();
    if (od != null) {
      outlier =
          new TrafficPolicy.OutlierDetection(
              od.consecutive5xxErrors() != null
                  ? od.consecutive5xxErrors()
                  : orZero(od.consecutiveErrors()),
              orZero(od.consecutiveGatewayErrors()),
              orZero(od.consecutiveLocalOriginFailures()),
              od.interval(),
              od.baseEjectionTime(),
              orZero(od.maxEjectionPercent()),
              orZero(od.minHealthPercent()));
    }
    var lbs = p.loadBalancer();
    return new TrafficPolicy.ClusterSettings(
        hash,
        breakers,
        connectTimeout,
        outlier,
        tls(p.tls()),
        lbs == null ? null : TrafficPolicy.LocalityLb.of(lbs.localityLbSetting()),
        lbs == null ? null : warmup(lbs),
        pool == null ? null : poolOptions(pool));
  }

  private static TrafficPolicy.@Nullable Warmup warmup(DestinationRule.LoadBalancerSettings lbs) {
    if (lbs.warmup() != null && lbs.warmup().duration() != null) {
      return new TrafficPolicy.Warmup(
          lbs.warmup().duration(), lbs.warmup().aggression(), lbs.warmup().minimumPercent());
    }
    return lbs.warmupDurationSecs() == null
        ? null
        : new TrafficPolicy.Warmup(lbs.warmupDurationSecs(), null, null);
  }

  private static TrafficPolicy.PoolOptions poolOptions(
      dev.bowline.api.model.ConnectionPoolSettings pool) {
    var tcp = pool.tcp();
    var http = pool.http();
    var ka = tcp == null ? null : tcp.tcpKeepalive();
    return new TrafficPolicy.PoolOptions(
        ka == null ? null : new TrafficPolicy.Keepalive(ka.probes(), ka.time(), ka.interval()),
        http == null ? null : http.idleTimeout(),
        http == null || http.h2UpgradePolicy() == null
            ? TrafficPolicy.H2Upgrade.DEFAULT
            : switch (http.h2UpgradePolicy()) {
              case UPGRADE -> TrafficPolicy.H2Upgrade.UPGRADE;
              case DO_NOT_UPGRADE -> TrafficPolicy.H2Upgrade.DO_NOT_UPGRADE;
              default -> TrafficPolicy.H2Upgrade.DEFAULT;
            },
        http != null && Boolean.TRUE.equals(http.useClientProtocol()),
        http == null ? 0 : orZero(http.maxConcurrentStreams()));
  }

  private static @Nullable ClientTls tls(@Nullable ClientTLSSettings t) {
    if (t == null) {
      return null;
    }
    ClientTls.Mode mode =
        switch (t.mode() == null ? ClientTLSSettings.Mode.DISABLE : t.mode()) {
          case DISABLE -> ClientTls.Mode.DISABLE;
          case SIMPLE -> ClientTls.Mode.SIMPLE;
          case MUTUAL -> ClientTls.Mode.MUTUAL;
          case ISTIO_MUTUAL -> ClientTls.Mode.ISTIO_MUTUAL;
        };
    return new ClientTls(
        mode,
        orEmpty(t.clientCertificate()),
        orEmpty(t.privateKey()),
        orEmpty(t.caCertificates()),
        orEmpty(t.credentialName()),
        t.subjectAltNames(),
        orEmpty(t.sni()),
        Boolean.TRUE.equals(t.insecureSkipVerify()));
  }

  private static String orEmpty(@Nullable String s) {
    return s == null ? "" : s;
  }

  private static int orZero(@Nullable Integer v) {
    return v == null ? 0 : v;
  }

  private static TrafficPolicy.LoadBalancer lb(
      DestinationRule.@Nullable TrafficPolicy policy, TrafficPolicy.LoadBalancer fallback) {
    if (policy == null || policy.loadBalancer() == null || policy.loadBalancer().simple() == null) {
      return fallback;
    }
    return switch (policy.loadBalancer().simple()) {
      case LEAST_CONN, LEAST_REQUEST -> TrafficPolicy.LoadBalancer.LEAST_REQUEST;
      case RANDOM -> TrafficPolicy.LoadBalancer.RANDOM;
      case PASSTHROUGH -> TrafficPolicy.LoadBalancer.PASSTHROUGH;
      case ROUND_ROBIN, UNSPECIFIED -> TrafficPolicy.LoadBalancer.ROUND_ROBIN;
    };
  }

  // ---- Sidecar

  SidecarScope scopeFor(Proxy proxy) {
    Resource<Sidecar> chosen = null;
    for (Resource<Sidecar> sc : sidecars) {
      if (!sc.namespace().equals(proxy.namespace())) {
        continue;
      }
      var selector = sc.spec().workloadSelector();
      if (selector != null && !selector.labels().isEmpty()) {
        if (proxy.labels().entrySet().containsAll(selector.labels().entrySet())) {
          chosen = sc;
          break;
        }
      } else if (chosen == null) {
        chosen = sc;
      }
    }
    if (chosen == null) {
      for (Resource<Sidecar> sc : sidecars) {
        if (sc.namespace().equals(rootNamespace)
            && (sc.spec().workloadSelector() == null
                || sc.spec().workloadSelector().labels().isEmpty())) {
          chosen = sc;
          break;
        }
      }
    }
    if (chosen == null) {
      return SidecarScope.DEFAULT;
    }
    List<String> hosts = new ArrayList<>();
    List<SidecarScope.EgressListener> egress = new ArrayList<>();
    for (Sidecar.IstioEgressListener e : chosen.spec().egress()) {
      hosts.addAll(e.hosts());
      if (e.port() != null && e.port().number() != null) {
        egress.add(
            new SidecarScope.EgressListener(
                e.port().number(),
                e.port().protocol() == null
                    ? ""
                    : e.port().protocol().toUpperCase(java.util.Locale.ROOT),
                e.bind() == null ? "" : e.bind(),
                e.captureMode() == null ? "DEFAULT" : e.captureMode().name(),
                e.hosts()));
      }
    }
    if (chosen.spec().egress().isEmpty()) {
      hosts.add("*/*");
    }
    List<SidecarScope.IngressListener> ingress = new ArrayList<>();
    for (Sidecar.IstioIngressListener i : chosen.spec().ingress()) {
      if (i.port() == null || i.port().number() == null) {
        continue;
      }
      ingress.add(
          new SidecarScope.IngressListener(
              i.port().number(),
              i.port().protocol() == null
                  ? ""
                  : i.port().protocol().toUpperCase(java.util.Locale.ROOT),
              i.port().name() == null ? "" : i.port().name(),
              i.bind() == null ? "" : i.bind(),
              i.defaultEndpoint() == null ? "" : i.defaultEndpoint()));
    }
    var otp = chosen.spec().outboundTrafficPolicy();
    // Not set: MeshConfig's outboundTrafficPolicy applies (PushContext.outboundTrafficPolicy).
    SidecarScope.OutboundTrafficPolicy mode =
        otp == null || otp.mode() == null
            ? null
            : otp.mode() == Sidecar.OutboundTrafficPolicy.Mode.REGISTRY_ONLY
                ? SidecarScope.OutboundTrafficPolicy.REGISTRY_ONLY
                : SidecarScope.OutboundTrafficPolicy.ALLOW_ANY;
    return new SidecarScope(
        hosts, mode, "Sidecar " + chosen.namespace() + "/" + chosen.name(), egress, ingress);
  }

  // ---- helpers

  /** Istio's short-name resolution: a host without a dot lives in {@code namespace}. */
  String fqdn(String host, String namespace) {
    if (host.contains(".") || host.startsWith("*")) {
      return host;
    }
    return host + "." + namespace + ".svc." + domainSuffix;
  }

  /** {@code exportTo}: empty or {@code *} for all, {@code .} for the own namespace, or names. */
  static boolean exported(List<String> exportTo, String own, String viewer) {
    if (exportTo.isEmpty()) {
      return true;
    }
    for (String e : exportTo) {
      if (e.equals("*") || e.equals(viewer) || (e.equals(".") && own.equals(viewer))) {
        return true;
      }
    }
    return false;
  }
}
