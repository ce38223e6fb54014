package dev.bowline.controlplane.xds.gen.envoyfilter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.api.model.EnvoyFilter.ApplyTo;
import dev.bowline.api.model.EnvoyFilter.EnvoyConfigObjectMatch;
import dev.bowline.api.model.EnvoyFilter.ListenerMatch;
import dev.bowline.api.model.EnvoyFilter.Patch.Operation;
import dev.bowline.api.model.EnvoyFilter.PatchContext;
import dev.bowline.api.model.EnvoyFilter.RouteConfigurationMatch;
import dev.bowline.controlplane.model.ConfigInputs.EnvoyFilterPatch;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.xds.gen.XdsJson;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.core.v3.TypedExtensionConfig;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * Applies a proxy's EnvoyFilter patches to its generated listeners, route configurations and
 * clusters, last, as istiod does. Every {@code applyTo} istiod supports is applied except
 * EXTENSION_CONFIG and BOOTSTRAP (Bowline serves no ECDS and the bootstrap is the agent's):
 * LISTENER, LISTENER_FILTER, FILTER_CHAIN, NETWORK_FILTER, HTTP_FILTER (on every HTTP connection
 * manager), ROUTE_CONFIGURATION, VIRTUAL_HOST, HTTP_ROUTE (RDS and inline route configurations) and
 * CLUSTER.
 *
 * <p>A patch whose value does not parse as the Envoy type it patches (a wrong value type, an
 * unknown field) or whose operation istiod does not allow for its {@code applyTo} is an error
 * naming the EnvoyFilter and the field; that patch is skipped and everything else still applies.
 * Pure: the input maps and messages are not changed.
 */
public final class EnvoyFilterPatcher {
  private static final System.Logger LOG = System.getLogger(EnvoyFilterPatcher.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HCM = "envoy.filters.network.http_connection_manager";
  private static final String VIRTUAL_INBOUND = "virtualInbound";
  private static final String VIRTUAL_OUTBOUND = "virtualOutbound";
  private static final JsonFormat.Parser PARSER =
      JsonFormat.parser().usingTypeRegistry(XdsJson.TYPES);
  private static final ProtoMerge MERGE = new ProtoMerge(XdsJson.TYPES);

  private static final Set<Operation> LIST_OPS =
      EnumSet.of(
          Operation.MERGE,
          Operation.ADD,
          Operation.REMOVE,
          Operation.INSERT_BEFORE,
          Operation.INSERT_AFTER,
          Operation.INSERT_FIRST,
          Operation.REPLACE);

  /** The operations istiod applies for each {@code applyTo}; others are errors. */
  static Set<Operation> allowed(ApplyTo applyTo) {
    return switch (applyTo) {
      case LISTENER, CLUSTER, VIRTUAL_HOST ->
          EnumSet.of(Operation.MERGE, Operation.ADD, Operation.REMOVE);
      case FILTER_CHAIN ->
          EnumSet.of(Operation.MERGE, Operation.ADD, Operation.REMOVE, Operation.REPLACE);
      case NETWORK_FILTER, HTTP_FILTER, LISTENER_FILTER -> LIST_OPS;
      case ROUTE_CONFIGURATION -> EnumSet.of(Operation.MERGE);
      case HTTP_ROUTE ->
          EnumSet.of(
              Operation.MERGE,
              Operation.ADD,
              Operation.REMOVE,
              Operation.INSERT_BEFORE,
              Operation.INSERT_AFTER,
              Operation.INSERT_FIRST);
      case EXTENSION_CONFIG -> EnumSet.of(Operation.ADD);
      case BOOTSTRAP -> EnumSet.of(Operation.MERGE);
      case INVALID -> EnumSet.noneOf(Operation.class);
    };
  }

  private EnvoyFilterPatcher() {}

  /** {@code listeners} with the listener-class and route-class patches applied. */
  public static SortedMap<String, Message> listeners(
      SortedMap<String, Message> listeners, Proxy proxy, List<EnvoyFilterPatch> patches) {
    List<CompiledPatch> relevant =
        compile(
            patches,
            proxy,
            EnumSet.of(
                ApplyTo.LISTENER,
                ApplyTo.LISTENER_FILTER,
                ApplyTo.FILTER_CHAIN,
                ApplyTo.NETWORK_FILTER,
                ApplyTo.HTTP_FILTER,
                ApplyTo.ROUTE_CONFIGURATION,
                ApplyTo.VIRTUAL_HOST,
                ApplyTo.HTTP_ROUTE));
    if (relevant.isEmpty()) {
      return listeners;
    }
    SortedMap<String, Message> out = new TreeMap<>();
    for (var e : listeners.entrySet()) {
      if (!(e.getValue() instanceof Listener l)) {
        out.put(e.getKey(), e.getValue());
        continue;
      }
      Listener patched = listener(l, proxy, relevant);
      if (patched != null) {
        out.put(e.getKey(), patched);
      }
    }
    // LISTENER ADD: a new listener in every matching context
    for (CompiledPatch p : relevant) {
      if (p.applyTo() == ApplyTo.LISTENER
          && p.operation() == Operation.ADD
          && (p.contextMatches(PatchContext.SIDECAR_OUTBOUND) && proxy.type() != NodeType.ROUTER
              || p.contextMatches(PatchContext.GATEWAY) && proxy.type() == NodeType.ROUTER)) {
        Listener added = p.value(Listener.class);
        out.put(added.getName(), added);
      }
    }
    return out;
  }

  /**
   * {@code routes} (RDS) with the ROUTE_CONFIGURATION, VIRTUAL_HOST, HTTP_ROUTE patches applied.
   */
  public static SortedMap<String, Message> routes(
      SortedMap<String, Message> routes, Proxy proxy, List<EnvoyFilterPatch> patches) {
    List<CompiledPatch> relevant =
        compile(
            patches,
            proxy,
            EnumSet.of(ApplyTo.ROUTE_CONFIGURATION, ApplyTo.VIRTUAL_HOST, ApplyTo.HTTP_ROUTE));
    if (relevant.isEmpty()) {
      return routes;
    }
    PatchContext context =
        proxy.type() == NodeType.ROUTER ? PatchContext.GATEWAY : PatchContext.SIDECAR_OUTBOUND;
    SortedMap<String, Message> out = new TreeMap<>();
    for (var e : routes.entrySet()) {
      out.put(
          e.getKey(),
          e.getValue() instanceof RouteConfiguration rc
              ? routeConfig(rc, context, -1, relevant)
              : e.getValue());
    }
    return out;
  }

  /** {@code clusters} with the CLUSTER patches applied (MERGE, REMOVE, then ADD). */
  public static SortedMap<String, Message> clusters(
      SortedMap<String, Message> clusters, Proxy proxy, List<EnvoyFilterPatch> patches) {
    List<CompiledPatch> relevant = compile(patches, proxy, EnumSet.of(ApplyTo.CLUSTER));
    if (relevant.isEmpty()) {
      return clusters;
    }
    SortedMap<String, Message> out = new TreeMap<>();
    for (var e : clusters.entrySet()) {
      if (!(e.getValue() instanceof Cluster c)) {
        out.put(e.getKey(), e.getValue());
        continue;
      }
      PatchContext context = clusterContext(c, proxy);
      Cluster current = c;
      boolean removed = false;
      for (CompiledPatch p : relevant) {
        if (!p.contextMatches(context) || !clusterMatches(p.match(), current)) {
          continue;
        }
        switch (p.operation()) {
          case REMOVE -> removed = true;
          case MERGE -> current = MERGE.merge(current, p.value(Cluster.class));
          default -> {}
        }
      }
      if (!removed) {
        out.put(e.getKey(), current);
      }
    }
    for (CompiledPatch p : relevant) {
      if (p.operation() != Operation.ADD) {
        continue;
      }
      boolean inContext =
          proxy.type() == NodeType.ROUTER
              ? p.contextMatches(PatchContext.GATEWAY)
              : p.contextMatches(PatchContext.SIDECAR_OUTBOUND)
                  || p.contextMatches(PatchContext.SIDECAR_INBOUND);
      if (inContext) {
        Cluster added = p.value(Cluster.class);
        out.put(added.getName(), added);
      }
    }
    return out;
  }

  private static PatchContext clusterContext(Cluster c, Proxy proxy) {
    if (proxy.type() == NodeType.ROUTER) {
      return PatchContext.GATEWAY;
    }
    return c.getName().startsWith("inbound|") || c.getName().equals("InboundPassthroughCluster")
        ? PatchContext.SIDECAR_INBOUND
        : PatchContext.SIDECAR_OUTBOUND;
  }

  // ---- compile: proxy match, operation check, value parse

  static List<CompiledPatch> compile(
      List<EnvoyFilterPatch> patches, Proxy proxy, Set<ApplyTo> kinds) {
    return compile(patches, proxy, kinds, EnvoyFilterPatcher::log);
  }

  /**
   * The errors of {@code patches} for {@code proxy}, each {@code EnvoyFilter ns/name:
   * spec.configPatches[i].field: what is wrong}; the patches they name are the ones skipped.
   */
  public static List<String> errors(List<EnvoyFilterPatch> patches, Proxy proxy) {
    List<String> out = new ArrayList<>();
    compile(patches, proxy, EnumSet.allOf(ApplyTo.class), out::add);
    return out;
  }

  private static void log(String error) {
    LOG.log(Level.WARNING, "event=envoyfilter_patch_invalid error=\"{0}\"", error);
  }

  static List<CompiledPatch> compile(
      List<EnvoyFilterPatch> patches,
      Proxy proxy,
      Set<ApplyTo> kinds,
      java.util.function.Consumer<String> errors) {
    List<CompiledPatch> out = new ArrayList<>();
    for (EnvoyFilterPatch p : patches) {
      var cp = p.patch();
      ApplyTo applyTo = cp.applyTo();
      if (applyTo == null || !kinds.contains(applyTo) || cp.patch() == null) {
        continue;
      }
      Operation op = cp.patch().operation();
      if (op == null || !allowed(applyTo).contains(op)) {
        errors.accept(
            error(
                p,
                "patch.operation",
                "operation " + op + " is not allowed for applyTo " + applyTo));
        continue;
      }
      if (!proxyMatches(p, proxy, errors)) {
        continue;
      }
      Message value = null;
      if (op != Operation.REMOVE) {
        value = parse(p, builderFor(applyTo), errors);
        if (value == null) {
          continue;
        }
      }
      out.add(new CompiledPatch(p.source(), p.index(), applyTo, op, cp.match(), value));
    }
    return out;
  }

  private static Message.Builder builderFor(ApplyTo applyTo) {
    return switch (applyTo) {
      case LISTENER -> Listener.newBuilder();
      case LISTENER_FILTER -> ListenerFilter.newBuilder();
      case FILTER_CHAIN -> FilterChain.newBuilder();
      case NETWORK_FILTER -> Filter.newBuilder();
      case HTTP_FILTER -> HttpFilter.newBuilder();
      case ROUTE_CONFIGURATION -> RouteConfiguration.newBuilder();
      case VIRTUAL_HOST -> VirtualHost.newBuilder();
      case HTTP_ROUTE -> Route.newBuilder();
      case CLUSTER -> Cluster.newBuilder();
      case EXTENSION_CONFIG, BOOTSTRAP, INVALID -> TypedExtensionConfig.newBuilder();
    };
  }

  private static @Nullable Message parse(
      EnvoyFilterPatch p, Message.Builder into, java.util.function.Consumer<String> errors) {
    var value = p.patch().patch() == null ? Map.of() : p.patch().patch().value();
    try {
      PARSER.merge(JSON.writeValueAsString(value), into);
      return into.build();
    } catch (JsonProcessingException | InvalidProtocolBufferException | RuntimeException e) {
      // name the top-level field that does not parse alone, when there is one
      String path = "patch.value";
      for (var field : value.entrySet()) {
        try {
          PARSER.merge(
              JSON.writeValueAsString(Map.of(field.getKey(), field.getValue())),
              into.getDefaultInstanceForType().newBuilderForType());
        } catch (JsonProcessingException | InvalidProtocolBufferException | RuntimeException f) {
          path = "patch.value." + field.getKey();
          break;
        }
      }
      errors.accept(
          error(
              p,
              path,
              "not a valid "
                  + into.getDescriptorForType().getFullName()
                  + ": "
                  + String.valueOf(e.getMessage()).replace('"', '\'')));
      return null;
    }
  }

  private static String error(EnvoyFilterPatch p, String path, String message) {
    return p.field(path) + ": " + message;
  }

  private static boolean proxyMatches(
      EnvoyFilterPatch p, Proxy proxy, java.util.function.Consumer<String> errors) {
    var m = p.patch().match();
    var pm = m == null ? null : m.proxy();
    if (pm == null) {
      return true;
    }
    if (pm.proxyVersion() != null && !pm.proxyVersion().isEmpty()) {
      try {
        if (!Pattern.compile(pm.proxyVersion()).matcher(proxy.istioVersion()).find()) {
          return false;
        }
      } catch (PatternSyntaxException e) {
        errors.accept(
            error(p, "match.proxy.proxyVersion", "not a valid regex: " + e.getDescription()));
        return false;
      }
    }
    // node metadata beyond the proxy's labels (and its namespace) is not kept by the proxy model
    for (Map.Entry<String, String> e : pm.metadata().entrySet()) {
      String actual =
          switch (e.getKey()) {
            case "NAMESPACE" -> proxy.namespace();
            case "ISTIO_VERSION" -> proxy.istioVersion();
            case "CLUSTER_ID" -> proxy.clusterId();
            case "INTERCEPTION_MODE" -> proxy.interceptionMode();
            default -> proxy.labels().get(e.getKey());
          };
      if (!e.getValue().equals(actual)) {
        return false;
      }
    }
    return true;
  }

  // ---- listeners

  /** The patched listener, or null when a LISTENER REMOVE takes it away. */
  private static @Nullable Listener listener(Listener l, Proxy proxy, List<CompiledPatch> patches) {
    PatchContext context =
        proxy.type() == NodeType.ROUTER
            ? PatchContext.GATEWAY
            : l.getTrafficDirection() == TrafficDirection.INBOUND
                    || l.getName().equals(VIRTUAL_INBOUND)
                ? PatchContext.SIDECAR_INBOUND
                : PatchContext.SIDECAR_OUTBOUND;
    Listener current = l;
    for (CompiledPatch p : patches) {
      if (p.applyTo() != ApplyTo.LISTENER
          || !p.contextMatches(context)
          || !listenerMatches(p, current, true)) {
        continue;
      }
      if (p.operation() == Operation.REMOVE) {
        return null;
      }
      if (p.operation() == Operation.MERGE) {
        current = MERGE.merge(current, p.value(Listener.class));
      }
    }
    Listener.Builder b = current.toBuilder();
    // listener filters
    List<ListenerFilter> lfs = new ArrayList<>(b.getListenerFiltersList());
    boolean lfChanged = false;
    for (CompiledPatch p : patches) {
      if (p.applyTo() != ApplyTo.LISTENER_FILTER
          || !p.contextMatches(context)
          || !listenerMatches(p, current, false)) {
        continue;
      }
      String target = listenerMatch(p) == null ? null : listenerMatch(p).listenerFilter();
      lfChanged |=
          ListPatch.apply(
              lfs,
              p.operation(),
              target == null || target.isEmpty() ? null : f -> f.getName().equals(target),
              p.value() == null ? null : p.value(ListenerFilter.class),
              MERGE::merge);
    }
    if (lfChanged) {
      b.clearListenerFilters().addAllListenerFilters(lfs);
    }
    // filter chains: REMOVE, MERGE, REPLACE on matching chains, then ADD
    List<FilterChain> chains = new ArrayList<>();
    boolean chainsChanged = false;
    for (FilterChain fc : b.getFilterChainsList()) {
      FilterChain patched = filterChain(fc, current, context, patches);
      if (patched != fc) {
        chainsChanged = true;
      }
      if (patched != null) {
        chains.add(patched);
      }
    }
    for (CompiledPatch p : patches) {
      if (p.applyTo() == ApplyTo.FILTER_CHAIN
          && p.operation() == Operation.ADD
          && p.contextMatches(context)
          && listenerMatches(p, current, false)) {
        chains.add(p.value(FilterChain.class));
        chainsChanged = true;
      }
    }
    if (chainsChanged) {
      b.clearFilterChains().addAllFilterChains(chains);
    }
    if (b.hasDefaultFilterChain()) {
      FilterChain d = b.getDefaultFilterChain();
      FilterChain patched = filterChain(d, current, context, patches);
      if (patched == null) {
        b.clearDefaultFilterChain();
      } else if (patched != d) {
        b.setDefaultFilterChain(patched);
      }
      chainsChanged |= patched != d;
    }
    return lfChanged || chainsChanged ? b.build() : current;
  }

  /** The patched chain, or null when a FILTER_CHAIN REMOVE takes it away. */
  private static @Nullable FilterChain filterChain(
      FilterChain fc, Listener l, PatchContext context, List<CompiledPatch> patches) {
    FilterChain current = fc;
    for (CompiledPatch p : patches) {
      if (p.applyTo() != ApplyTo.FILTER_CHAIN
          || p.operation() == Operation.ADD
          || !p.contextMatches(context)
          || !listenerMatches(p, l, false)
          || !chainMatches(p, l, current)) {
        continue;
      }
      switch (p.operation()) {
        case REMOVE -> {
          return null;
        }
        case MERGE -> current = MERGE.merge(current, p.value(FilterChain.class));
        case REPLACE -> current = p.value(FilterChain.class);
        default -> {}
      }
    }
    List<Filter> filters = new ArrayList<>(current.getFiltersList());
    boolean changed = false;
    for (CompiledPatch p : patches) {
      if (p.applyTo() != ApplyTo.NETWORK_FILTER
          || !p.contextMatches(context)
          || !listenerMatches(p, l, false)
          || !chainMatches(p, l, current)) {
        continue;
      }
      String target = filterName(p);
      changed |=
          ListPatch.apply(
              filters,
              p.operation(),
              target == null ? null : f -> f.getName().equals(target),
              p.value() == null ? null : p.value(Filter.class),
              MERGE::merge);
    }
    for (int j = 0; j < filters.size(); j++) {
      Filter f = filters.get(j);
      if (!f.getName().equals(HCM) || !f.hasTypedConfig()) {
        continue;
      }
      HttpConnectionManager hcm;
      try {
        hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
      } catch (InvalidProtocolBufferException e) {
        continue;
      }
      HttpConnectionManager patched = hcm(hcm, l, current, context, patches);
      if (patched != hcm) {
        filters.set(j, f.toBuilder().setTypedConfig(Any.pack(patched)).build());
        changed = true;
      }
    }
    if (!changed) {
      return current;
    }
    return current.toBuilder().clearFilters().addAllFilters(filters).build();
  }

  private static HttpConnectionManager hcm(
      HttpConnectionManager hcm,
      Listener l,
      FilterChain fc,
      PatchContext context,
      List<CompiledPatch> patches) {
    List<HttpFilter> filters = new ArrayList<>(hcm.getHttpFiltersList());
    boolean changed = false;
    for (CompiledPatch p : patches) {
      if (p.applyTo() != ApplyTo.HTTP_FILTER
          || !p.contextMatches(context)
          || !listenerMatches(p, l, false)
          || !chainMatches(p, l, fc)) {
        continue;
      }
      String target = subFilterName(p.match());
      changed |=
          ListPatch.apply(
              filters,
              p.operation(),
              target == null ? null : f -> f.getName().equals(target),
              p.value() == null ? null : p.value(HttpFilter.class),
              MERGE::merge);
    }
    RouteConfiguration inline = hcm.hasRouteConfig() ? hcm.getRouteConfig() : null;
    int port = chainPort(l, fc);
    RouteConfiguration patchedRoutes =
        inline == null ? null : routeConfig(inline, context, port, patches);
    if (!changed && patchedRoutes == inline) {
      return hcm;
    }
    var b = hcm.toBuilder().clearHttpFilters().addAllHttpFilters(filters);
    if (patchedRoutes != null) {
      b.setRouteConfig(patchedRoutes);
    }
    return b.build();
  }

  /** istiod's HTTP filter operations; true when the chain changed. */
  static boolean applyFilterPatch(
      List<HttpFilter> filters, Operation op, @Nullable String target, @Nullable HttpFilter value) {
    return ListPatch.apply(
        filters, op, target == null ? null : f -> f.getName().equals(target), value, MERGE::merge);
  }

  private static int chainPort(Listener l, FilterChain fc) {
    return fc.getFilterChainMatch().hasDestinationPort()
        ? fc.getFilterChainMatch().getDestinationPort().getValue()
        : l.getAddress().getSocketAddress().getPortValue();
  }

  private static @Nullable ListenerMatch listenerMatch(CompiledPatch p) {
    return p.match() == null ? null : p.match().listener();
  }

  private static boolean isVirtual(Listener l) {
    return l.getName().equals(VIRTUAL_INBOUND) || l.getName().equals(VIRTUAL_OUTBOUND);
  }

  /**
   * Listener-level conditions: name, port (on the virtual listeners the port is a chain's
   * destination port) and a required listener filter. {@code whole}: the patch is on the listener
   * itself, so a port on a virtual listener must be one of its chains'.
   */
  private static boolean listenerMatches(CompiledPatch p, Listener l, boolean whole) {
    EnvoyConfigObjectMatch m = p.match();
    if (m != null && (m.routeConfiguration() != null || m.cluster() != null)) {
      return false;
    }
    ListenerMatch lm = listenerMatch(p);
    if (lm == null) {
      return true;
    }
    if (lm.name() != null && !lm.name().isEmpty() && !lm.name().equals(l.getName())) {
      return false;
    }
    if (lm.portNumber() != null && lm.portNumber() != 0) {
      int port = l.getAddress().getSocketAddress().getPortValue();
      if (port != lm.portNumber()) {
        if (!isVirtual(l)) {
          return false;
        }
        if (whole
            && l.getFilterChainsList().stream()
                .noneMatch(
                    fc ->
                        fc.getFilterChainMatch().hasDestinationPort()
                            && fc.getFilterChainMatch().getDestinationPort().getValue()
                                == lm.portNumber())) {
          return false;
        }
      }
    }
    String lf = lm.listenerFilter();
    if (lf != null
        && !lf.isEmpty()
        && p.applyTo() != ApplyTo.LISTENER_FILTER
        && l.getListenerFiltersList().stream().noneMatch(f -> f.getName().equals(lf))) {
      return false;
    }
    return true;
  }

  /** Filter-chain conditions of a listener match. */
  private static boolean chainMatches(CompiledPatch p, Listener l, FilterChain fc) {
    ListenerMatch lm = listenerMatch(p);
    if (lm == null) {
      return true;
    }
    var fcm = fc.getFilterChainMatch();
    if (lm.portNumber() != null
        && lm.portNumber() != 0
        && isVirtual(l)
        && l.getAddress().getSocketAddress().getPortValue() != lm.portNumber()
        && !(fcm.hasDestinationPort() && fcm.getDestinationPort().getValue() == lm.portNumber())) {
      return false;
    }
    var chain = lm.filterChain();
    if (chain == null) {
      return true;
    }
    if (chain.name() != null && !chain.name().isEmpty() && !chain.name().equals(fc.getName())) {
      return false;
    }
    if (chain.sni() != null
        && !chain.sni().isEmpty()
        && !fcm.getServerNamesList().contains(chain.sni())) {
      return false;
    }
    if (chain.transportProtocol() != null
        && !chain.transportProtocol().isEmpty()
        && !chain.transportProtocol().equals(fcm.getTransportProtocol())) {
      return false;
    }
    if (chain.applicationProtocols() != null && !chain.applicationProtocols().isEmpty()) {
      for (String proto : chain.applicationProtocols().split(",")) {
        if (!fcm.getApplicationProtocolsList().contains(proto.trim())) {
          return false;
        }
      }
    }
    if (chain.destinationPort() != null
        && chain.destinationPort() != 0
        && !(fcm.hasDestinationPort()
            && fcm.getDestinationPort().getValue() == chain.destinationPort())) {
      return false;
    }
    String filter = filterName(p);
    // a filter name must be present in the chain, except for the filter operations that add
    if (filter != null
        && !(p.applyTo() == ApplyTo.NETWORK_FILTER
            && (p.operation() == Operation.ADD || p.operation() == Operation.INSERT_FIRST))
        && fc.getFiltersList().stream().noneMatch(f -> f.getName().equals(filter))) {
      return false;
    }
    return true;
  }

  private static @Nullable String filterName(CompiledPatch p) {
    ListenerMatch lm = listenerMatch(p);
    if (lm == null || lm.filterChain() == null || lm.filterChain().filter() == null) {
      return null;
    }
    String n = lm.filterChain().filter().name();
    return n == null || n.isEmpty() ? null : n;
  }

  private static @Nullable String subFilterName(@Nullable EnvoyConfigObjectMatch m) {
    if (m == null || m.listener() == null || m.listener().filterChain() == null) {
      return null;
    }
    var f = m.listener().filterChain().filter();
    if (f == null || f.subFilter() == null) {
      return null;
    }
    String n = f.subFilter().name();
    return n == null || n.isEmpty() ? null : n;
  }

  // ---- route configurations

  /**
   * Applies ROUTE_CONFIGURATION, VIRTUAL_HOST and HTTP_ROUTE patches; {@code port} is the
   * listener's port for an inline configuration, -1 to read it from the RDS name.
   */
  private static RouteConfiguration routeConfig(
      RouteConfiguration rc, PatchContext context, int port, List<CompiledPatch> patches) {
    RouteConfiguration current = rc;
    for (CompiledPatch p : patches) {
      if (p.applyTo() == ApplyTo.ROUTE_CONFIGURATION
          && p.contextMatches(context)
          && routeConfigMatches(p.match(), current, port)) {
        current = MERGE.merge(current, p.value(RouteConfiguration.class));
      }
    }
    List<VirtualHost> vhosts = new ArrayList<>();
    boolean changed = false;
    for (VirtualHost vh : current.getVirtualHostsList()) {
      VirtualHost v = vh;
      boolean removed = false;
      for (CompiledPatch p : patches) {
        if (p.applyTo() != ApplyTo.VIRTUAL_HOST
            || p.operation() == Operation.ADD
            || !p.contextMatches(context)
            || !routeConfigMatches(p.match(), current, port)
            || !vhostMatches(p.match(), v)) {
          continue;
        }
        if (p.operation() == Operation.REMOVE) {
          removed = true;
          break;
        }
        v = MERGE.merge(v, p.value(VirtualHost.class));
      }
      if (removed) {
        changed = true;
        continue;
      }
      VirtualHost routed = routes(v, current, context, port, patches);
      changed |= routed != vh;
      vhosts.add(routed);
    }
    for (CompiledPatch p : patches) {
      if (p.applyTo() == ApplyTo.VIRTUAL_HOST
          && p.operation() == Operation.ADD
          && p.contextMatches(context)
          && routeConfigMatches(p.match(), current, port)) {
        vhosts.add(p.value(VirtualHost.class));
        changed = true;
      }
    }
    if (!changed) {
      return current;
    }
    return current.toBuilder().clearVirtualHosts().addAllVirtualHosts(vhosts).build();
  }

  private static VirtualHost routes(
      VirtualHost vh,
      RouteConfiguration rc,
      PatchContext context,
      int port,
      List<CompiledPatch> patches) {
    List<Route> routes = null;
    for (CompiledPatch p : patches) {
      if (p.applyTo() != ApplyTo.HTTP_ROUTE
          || !p.contextMatches(context)
          || !routeConfigMatches(p.match(), rc, port)
          || !vhostMatches(p.match(), vh)) {
        continue;
      }
      if (routes == null) {
        routes = new ArrayList<>(vh.getRoutesList());
      }
      var routeMatch = routeMatch(p.match());
      Route value = p.value() == null ? null : p.value(Route.class);
      switch (p.operation()) {
        case MERGE ->
            routes.replaceAll(r -> routeMatches(routeMatch, r) ? MERGE.merge(r, value) : r);
        case REMOVE -> routes.removeIf(r -> routeMatches(routeMatch, r));
        case ADD -> routes.add(java.util.Objects.requireNonNull(value));
        case INSERT_FIRST -> routes.addFirst(java.util.Objects.requireNonNull(value));
        case INSERT_BEFORE, INSERT_AFTER -> {
          Predicate<Route> target = r -> routeMatches(routeMatch, r);
          ListPatch.apply(routes, p.operation(), target, value, MERGE::merge);
        }
        default -> {}
      }
    }
    if (routes == null || routes.equals(vh.getRoutesList())) {
      return vh;
    }
    return vh.toBuilder().clearRoutes().addAllRoutes(routes).build();
  }

  private static RouteConfigurationMatch.@Nullable RouteMatch routeMatch(
      @Nullable EnvoyConfigObjectMatch m) {
    if (m == null || m.routeConfiguration() == null || m.routeConfiguration().vhost() == null) {
      return null;
    }
    return m.routeConfiguration().vhost().route();
  }

  private static boolean vhostMatches(@Nullable EnvoyConfigObjectMatch m, VirtualHost vh) {
    var vm = m == null || m.routeConfiguration() == null ? null : m.routeConfiguration().vhost();
    if (vm == null) {
      return true;
    }
    if (vm.name() != null && !vm.name().isEmpty() && !vm.name().equals(vh.getName())) {
      return false;
    }
    return vm.domainName() == null
        || vm.domainName().isEmpty()
        || vh.getDomainsList().contains(vm.domainName());
  }

  private static boolean routeMatches(RouteConfigurationMatch.@Nullable RouteMatch m, Route r) {
    if (m == null) {
      return true;
    }
    if (m.name() != null && !m.name().isEmpty() && !m.name().equals(r.getName())) {
      return false;
    }
    if (m.action() == null) {
      return true;
    }
    return switch (m.action()) {
      case ANY -> true;
      case ROUTE -> r.hasRoute();
      case REDIRECT -> r.hasRedirect();
      case DIRECT_RESPONSE -> r.hasDirectResponse();
    };
  }

  private static boolean routeConfigMatches(
      @Nullable EnvoyConfigObjectMatch m, RouteConfiguration rc, int inlinePort) {
    if (m != null && (m.listener() != null || m.cluster() != null)) {
      return false;
    }
    var rm = m == null ? null : m.routeConfiguration();
    if (rm == null) {
      return true;
    }
    if (rm.name() != null && !rm.name().isEmpty() && !rm.name().equals(rc.getName())) {
      return false;
    }
    if (rm.portNumber() != null && rm.portNumber() != 0) {
      int port = inlinePort >= 0 ? inlinePort : portOf(rc.getName());
      if (port != rm.portNumber()) {
        return false;
      }
    }
    if (rm.gateway() != null && !rm.gateway().isEmpty()) {
      // gateway route names ("https.443.<port name>.<gateway>.<namespace>") name the gateway;
      // merged plain-text ones ("http.80") do not, and a gateway match never selects them
      String[] ns = rm.gateway().split("/", 2);
      String suffix = ns.length == 2 ? "." + ns[1] + "." + ns[0] : "." + rm.gateway();
      if (!rc.getName().endsWith(suffix)) {
        return false;
      }
    }
    if (rm.portName() != null && !rm.portName().isEmpty()) {
      String[] parts = rc.getName().split("\\.");
      if (parts.length < 3 || !parts[2].equals(rm.portName())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The port in a route configuration name: {@code 8080}, {@code host:8080}, {@code http.8080},
   * {@code https.443.name.gw.ns}, {@code inbound|8080||...}; -1 when there is none.
   */
  static int portOf(String name) {
    String p;
    if (name.startsWith("inbound|")) {
      p = name.split("\\|", -1)[1];
    } else if (name.contains(":")) {
      p = name.substring(name.lastIndexOf(':') + 1);
    } else if (name.startsWith("http.") || name.startsWith("https.")) {
      p = name.split("\\.")[1];
    } else {
      p = name;
    }
    try {
      return Integer.parseInt(p);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  // ---- clusters

  /** istiod's cluster match: the name exactly, else port, service and subset of the name. */
  private static boolean clusterMatches(@Nullable EnvoyConfigObjectMatch m, Cluster c) {
    if (m != null && (m.listener() != null || m.routeConfiguration() != null)) {
      return false;
    }
    var cm = m == null ? null : m.cluster();
    if (cm == null) {
      return true;
    }
    if (cm.name() != null && !cm.name().isEmpty()) {
      return cm.name().equals(c.getName());
    }
    String[] parts = c.getName().split("\\|", -1);
    if (parts.length != 4) {
      return false;
    }
    int port;
    try {
      port = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      return false;
    }
    if (cm.subset() != null && !cm.subset().isEmpty() && !cm.subset().equals(parts[2])) {
      return false;
    }
    if (cm.service() != null && !cm.service().isEmpty() && !cm.service().equals(parts[3])) {
      return false;
    }
    return cm.portNumber() == null || cm.portNumber() == 0 || cm.portNumber() == port;
  }
}
