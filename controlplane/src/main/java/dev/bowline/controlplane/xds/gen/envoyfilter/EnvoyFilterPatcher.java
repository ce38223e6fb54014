package dev.bowline.controlplane.xds.gen.envoyfilter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.api.model.EnvoyFilter.ApplyTo;
import dev.bowline.api.model.EnvoyFilter.EnvoyConfigObjectMatch;
import dev.bowline.api.model.EnvoyFilter.Patch.Operation;
import dev.bowline.api.model.EnvoyFilter.PatchContext;
import dev.bowline.controlplane.model.ConfigInputs.EnvoyFilterPatch;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Applies a proxy's EnvoyFilter patches to its generated listeners and route configurations. A
 * patch whose value does not parse as the Envoy type it patches is skipped with one log line (as
 * istiod does); the rest still apply. Pure: the input maps and messages are not changed.
 */
public final class EnvoyFilterPatcher {
  private static final System.Logger LOG = System.getLogger(EnvoyFilterPatcher.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HCM = "envoy.filters.network.http_connection_manager";
  private static final JsonFormat.Parser PARSER =
      JsonFormat.parser().usingTypeRegistry(dev.bowline.controlplane.xds.gen.XdsJson.TYPES);

  private EnvoyFilterPatcher() {}

  /** {@code listeners} with the HTTP_FILTER (and inline HTTP_ROUTE) patches applied. */
  public static SortedMap<String, Message> listeners(
      SortedMap<String, Message> listeners, Proxy proxy, List<EnvoyFilterPatch> patches) {
    List<EnvoyFilterPatch> relevant =
        patches.stream()
            .filter(
                p ->
                    p.patch().applyTo() == ApplyTo.HTTP_FILTER
                        || p.patch().applyTo() == ApplyTo.HTTP_ROUTE)
            .filter(p -> proxyMatches(p, proxy))
            .toList();
    if (relevant.isEmpty()) {
      return listeners;
    }
    SortedMap<String, Message> out = new TreeMap<>();
    for (var e : listeners.entrySet()) {
      out.put(
          e.getKey(),
          e.getValue() instanceof Listener l ? listener(l, proxy, relevant) : e.getValue());
    }
    return out;
  }

  /** {@code routes} (RDS, outbound for sidecars) with the HTTP_ROUTE patches applied. */
  public static SortedMap<String, Message> routes(
      SortedMap<String, Message> routes, Proxy proxy, List<EnvoyFilterPatch> patches) {
    List<EnvoyFilterPatch> relevant =
        patches.stream()
            .filter(p -> p.patch().applyTo() == ApplyTo.HTTP_ROUTE)
            .filter(p -> proxyMatches(p, proxy))
            .toList();
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
              ? routeConfig(rc, context, relevant)
              : e.getValue());
    }
    return out;
  }

  private static Listener listener(Listener l, Proxy proxy, List<EnvoyFilterPatch> patches) {
    PatchContext context =
        proxy.type() == NodeType.ROUTER
            ? PatchContext.GATEWAY
            : l.getTrafficDirection() == TrafficDirection.INBOUND
                ? PatchContext.SIDECAR_INBOUND
                : PatchContext.SIDECAR_OUTBOUND;
    Listener.Builder b = l.toBuilder();
    boolean changed = false;
    for (int i = 0; i < b.getFilterChainsCount(); i++) {
      FilterChain fc = b.getFilterChains(i);
      FilterChain.Builder fcb = fc.toBuilder();
      for (int j = 0; j < fcb.getFiltersCount(); j++) {
        Filter f = fcb.getFilters(j);
        if (!f.getName().equals(HCM) || !f.hasTypedConfig()) {
          continue;
        }
        HttpConnectionManager hcm;
        try {
          hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
        } catch (InvalidProtocolBufferException e) {
          continue;
        }
        HttpConnectionManager patched = hcm(hcm, l, fc, context, patches);
        if (patched != hcm) {
          fcb.setFilters(j, f.toBuilder().setTypedConfig(Any.pack(patched)));
          changed = true;
        }
      }
      b.setFilterChains(i, fcb);
    }
    return changed ? b.build() : l;
  }

  private static HttpConnectionManager hcm(
      HttpConnectionManager hcm,
      Listener l,
      FilterChain fc,
      PatchContext context,
      List<EnvoyFilterPatch> patches) {
    List<HttpFilter> filters = new ArrayList<>(hcm.getHttpFiltersList());
    boolean changed = false;
    for (EnvoyFilterPatch p : patches) {
      var patch = p.patch();
      if (patch.applyTo() != ApplyTo.HTTP_FILTER
          || !contextMatches(patch.match(), context)
          || !listenerMatches(patch.match(), l, fc)) {
        continue;
      }
      Operation op = patch.patch() == null ? null : patch.patch().operation();
      if (op == null) {
        continue;
      }
      String target = subFilterName(patch.match());
      HttpFilter value = null;
      if (op != Operation.REMOVE) {
        value = parse(p, HttpFilter.newBuilder());
        if (value == null) {
          continue;
        }
      }
      changed |= applyFilterPatch(filters, op, target, value);
    }
    RouteConfiguration inline = hcm.hasRouteConfig() ? hcm.getRouteConfig() : null;
    RouteConfiguration patchedRoutes =
        inline == null ? null : routeConfig(inline, context, patches);
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
    int at = -1;
    if (target != null) {
      for (int i = 0; i < filters.size(); i++) {
        if (filters.get(i).getName().equals(target)) {
          at = i;
          break;
        }
      }
    }
    switch (op) {
      case ADD -> filters.add(java.util.Objects.requireNonNull(value));
      case INSERT_FIRST -> filters.addFirst(java.util.Objects.requireNonNull(value));
      // without a sub-filter: INSERT_BEFORE is INSERT_FIRST, INSERT_AFTER is ADD
      case INSERT_BEFORE -> {
        if (target == null) {
          filters.addFirst(java.util.Objects.requireNonNull(value));
        } else if (at >= 0) {
          filters.add(at, java.util.Objects.requireNonNull(value));
        } else {
          return false;
        }
      }
      case INSERT_AFTER -> {
        if (target == null) {
          filters.add(java.util.Objects.requireNonNull(value));
        } else if (at >= 0) {
          filters.add(at + 1, java.util.Objects.requireNonNull(value));
        } else {
          return false;
        }
      }
      case REPLACE -> {
        if (at < 0) {
          return false;
        }
        filters.set(at, java.util.Objects.requireNonNull(value));
      }
      case REMOVE -> {
        if (target == null) {
          return false;
        }
        return filters.removeIf(f -> f.getName().equals(target));
      }
      case MERGE -> {
        if (at < 0 || value == null) {
          return false;
        }
        HttpFilter current = filters.get(at);
        HttpFilter.Builder m = current.toBuilder();
        if (!value.getName().isEmpty()) {
          m.setName(value.getName());
        }
        if (value.hasTypedConfig()) {
          m.setTypedConfig(mergeAny(current.getTypedConfig(), value.getTypedConfig()));
        }
        filters.set(at, m.build());
      }
      case INVALID -> {
        return false;
      }
    }
    return true;
  }

  /** Merges two Anys of the same type field by field; else the second replaces the first. */
  private static Any mergeAny(Any base, Any overlay) {
    if (!base.getTypeUrl().equals(overlay.getTypeUrl())) {
      return overlay;
    }
    try {
      var desc =
          dev.bowline.controlplane.xds.gen.XdsJson.TYPES.find(
              base.getTypeUrl().substring(base.getTypeUrl().lastIndexOf('/') + 1));
      if (desc == null) {
        return overlay;
      }
      var b = com.google.protobuf.DynamicMessage.newBuilder(desc).mergeFrom(base.getValue());
      b.mergeFrom(overlay.getValue());
      return Any.newBuilder()
          .setTypeUrl(base.getTypeUrl())
          .setValue(b.build().toByteString())
          .build();
    } catch (InvalidProtocolBufferException e) {
      return overlay;
    }
  }

  private static RouteConfiguration routeConfig(
      RouteConfiguration rc, PatchContext context, List<EnvoyFilterPatch> patches) {
    RouteConfiguration.Builder b = null;
    for (EnvoyFilterPatch p : patches) {
      var patch = p.patch();
      if (patch.applyTo() != ApplyTo.HTTP_ROUTE
          || !contextMatches(patch.match(), context)
          || !routeConfigMatches(patch.match(), rc)) {
        continue;
      }
      Operation op = patch.patch() == null ? null : patch.patch().operation();
      if (op != Operation.MERGE && op != Operation.REMOVE) {
        continue; // other HTTP_ROUTE operations are not applied yet
      }
      Route value = null;
      if (op == Operation.MERGE) {
        value = parse(p, Route.newBuilder());
        if (value == null) {
          continue;
        }
      }
      if (b == null) {
        b = rc.toBuilder();
      }
      var vhostMatch =
          patch.match() == null || patch.match().routeConfiguration() == null
              ? null
              : patch.match().routeConfiguration().vhost();
      for (int v = 0; v < b.getVirtualHostsCount(); v++) {
        VirtualHost vh = b.getVirtualHosts(v);
        if (vhostMatch != null
            && vhostMatch.name() != null
            && !vhostMatch.name().equals(vh.getName())) {
          continue;
        }
        if (vhostMatch != null
            && vhostMatch.domainName() != null
            && !vh.getDomainsList().contains(vhostMatch.domainName())) {
          continue;
        }
        var routeMatch = vhostMatch == null ? null : vhostMatch.route();
        VirtualHost.Builder vb = vh.toBuilder().clearRoutes();
        for (Route r : vh.getRoutesList()) {
          if (!routeMatches(routeMatch, r)) {
            vb.addRoutes(r);
          } else if (op == Operation.MERGE) {
            vb.addRoutes(r.toBuilder().mergeFrom(java.util.Objects.requireNonNull(value)));
          }
        }
        b.setVirtualHosts(v, vb);
      }
    }
    return b == null ? rc : b.build();
  }

  private static boolean routeMatches(
      dev.bowline.api.model.EnvoyFilter.RouteConfigurationMatch.@Nullable RouteMatch m, Route r) {
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
      @Nullable EnvoyConfigObjectMatch m, RouteConfiguration rc) {
    var rm = m == null ? null : m.routeConfiguration();
    if (m != null && (m.listener() != null || m.cluster() != null)) {
      return false;
    }
    if (rm == null) {
      return true;
    }
    if (rm.name() != null && !rm.name().isEmpty() && !rm.name().equals(rc.getName())) {
      return false;
    }
    if (rm.portNumber() != null && rm.portNumber() != 0) {
      String port = rc.getName().substring(rc.getName().lastIndexOf('_') + 1);
      port = port.substring(port.lastIndexOf('|') + 1);
      if (!port.equals(Integer.toString(rm.portNumber()))) {
        return false;
      }
    }
    return true;
  }

  private static boolean listenerMatches(
      @Nullable EnvoyConfigObjectMatch m, Listener l, FilterChain fc) {
    var lm = m == null ? null : m.listener();
    if (m != null && (m.routeConfiguration() != null || m.cluster() != null)) {
      return false;
    }
    if (lm == null) {
      return true;
    }
    if (lm.name() != null && !lm.name().isEmpty() && !lm.name().equals(l.getName())) {
      return false;
    }
    if (lm.portNumber() != null && lm.portNumber() != 0) {
      int port = l.getAddress().getSocketAddress().getPortValue();
      int chainPort =
          fc.getFilterChainMatch().hasDestinationPort()
              ? fc.getFilterChainMatch().getDestinationPort().getValue()
              : -1;
      if (port != lm.portNumber() && chainPort != lm.portNumber()) {
        return false;
      }
    }
    var chain = lm.filterChain();
    if (chain != null) {
      if (chain.name() != null && !chain.name().isEmpty() && !chain.name().equals(fc.getName())) {
        return false;
      }
      if (chain.filter() != null
          && chain.filter().name() != null
          && !chain.filter().name().isEmpty()
          && !chain.filter().name().equals(HCM)) {
        return false;
      }
    }
    return true;
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

  private static boolean contextMatches(@Nullable EnvoyConfigObjectMatch m, PatchContext context) {
    PatchContext c = m == null ? null : m.context();
    return c == null || c == PatchContext.ANY || c == context;
  }

  private static boolean proxyMatches(EnvoyFilterPatch p, Proxy proxy) {
    var m = p.patch().match();
    var pm = m == null ? null : m.proxy();
    if (pm == null) {
      return true;
    }
    if (pm.proxyVersion() != null
        && !pm.proxyVersion().isEmpty()
        && !Pattern.compile(pm.proxyVersion()).matcher(proxy.istioVersion()).find()) {
      return false;
    }
    // node metadata beyond the proxy's labels is not kept; a metadata match must be on labels
    for (Map.Entry<String, String> e : pm.metadata().entrySet()) {
      if (!e.getValue().equals(proxy.labels().get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> @Nullable T parse(EnvoyFilterPatch p, Message.Builder into) {
    var value = p.patch().patch() == null ? Map.of() : p.patch().patch().value();
    try {
      PARSER.merge(JSON.writeValueAsString(value), into);
      return (T) into.build();
    } catch (JsonProcessingException | InvalidProtocolBufferException e) {
      LOG.log(
          Level.WARNING,
          "event=envoyfilter_patch_skipped envoyfilter={0} applyTo={1} error=\"{2}\"",
          p.source(),
          p.patch().applyTo(),
          e.getMessage());
      return null;
    }
  }
}
