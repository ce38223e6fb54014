package dev.bowline.proxy.xds;

import com.google.protobuf.ByteString;
import dev.bowline.proxy.config.ClusterChoice;
import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.QueryMatch;
import dev.bowline.proxy.config.Route;
import dev.bowline.proxy.config.RouteAction;
import dev.bowline.proxy.config.RouteMatch;
import dev.bowline.proxy.config.RouteTable;
import dev.bowline.proxy.config.StringMatch;
import dev.bowline.proxy.config.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code RouteConfiguration} → {@link RouteTable}. */
public final class RouteConfigParser extends ResourceParser<RouteConfiguration, RouteTable> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  /** Envoy's default route timeout. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

  private final dev.bowline.proxy.http.filter.FilterRegistry filters;

  public RouteConfigParser() {
    this(dev.bowline.proxy.http.filter.FilterRegistry.builtIn());
  }

  /** A parser that reads {@code typed_per_filter_config} with {@code filters}. */
  public RouteConfigParser(dev.bowline.proxy.http.filter.FilterRegistry filters) {
    super(TYPE_URL, RouteConfiguration.getDescriptor(), RouteConfiguration.parser());
    this.filters = filters;
  }

  @Override
  public String name(RouteConfiguration proto) {
    return proto.getName();
  }

  @Override
  public RouteTable parse(RouteConfiguration rc) throws InvalidResourceException {
    List<VirtualHost> hosts = new ArrayList<>();
    int maxBody = maxDirectResponseBody(rc);
    for (int i = 0; i < rc.getVirtualHostsCount(); i++) {
      hosts.add(
          virtualHost(rc.getVirtualHosts(i), "virtual_hosts[" + i + "]", filters, maxBody, rc));
    }
    return table(rc, hosts);
  }

  /**
   * Per route table name, the virtual hosts of its last accepted conversion by their serialised
   * bytes. A sidecar's table has a virtual host per service; a push that adds one service re-sends
   * the whole table, and converting (and auditing) the 1,999 unchanged hosts again was most of its
   * parse. A host's runtime object depends on its own bytes only (and this parser's filter
   * registry), so identical bytes give back the same object, wherever the host now sits in the
   * table (the table's index is built again in its order).
   */
  private final Map<String, Map<ByteString, VirtualHost>> hostsByTable =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** More tables than this (a control plane churning names) and the reuse map starts again. */
  private static final int MAX_TABLES = 256;

  @Override
  RouteTable parseAndAudit(RouteConfiguration rc, ByteString bytes)
      throws InvalidResourceException {
    int maxBody = maxDirectResponseBody(rc);
    // a host's conversion depends on the table's direct response body limit and mirror policies
    String tableKey = rc.getName() + '\n' + maxBody + '\n' + mirrorsKey(rc);
    Map<ByteString, VirtualHost> before = hostsByTable.getOrDefault(tableKey, Map.of());
    int n = rc.getVirtualHostsCount();
    List<VirtualHost> hosts = new ArrayList<>(n);
    Map<ByteString, VirtualHost> now = new HashMap<>(Math.max(16, n * 2));
    List<io.envoyproxy.envoy.config.route.v3.VirtualHost> converted = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      var proto = rc.getVirtualHosts(i);
      ByteString key = proto.toByteString();
      VirtualHost vh = before.get(key);
      if (vh == null) {
        vh = now.get(key);
      }
      if (vh == null) {
        vh = virtualHost(proto, "virtual_hosts[" + i + "]", filters, maxBody, rc);
        converted.add(proto);
      }
      now.put(key, vh);
      hosts.add(vh);
    }
    RouteTable table = table(rc, hosts);
    // A reused host's fields were audited when its bytes first came (each ignored field is
    // reported once per parser): only the table's own fields and the converted hosts are walked.
    if (converted.size() == n) {
      audit(rc, bytes);
    } else {
      RouteConfiguration rest =
          rc.toBuilder().clearVirtualHosts().addAllVirtualHosts(converted).build();
      audit(rest, rest.toByteString());
    }
    if (hostsByTable.size() >= MAX_TABLES && !hostsByTable.containsKey(tableKey)) {
      hostsByTable.clear();
    }
    hostsByTable.put(tableKey, now);
    return table;
  }

  private RouteTable table(RouteConfiguration rc, List<VirtualHost> hosts)
      throws InvalidResourceException {
    return new RouteTable(
        rc.getName(),
        hosts,
        mutation(
            rc.getRequestHeadersToAddList(),
            rc.getRequestHeadersToRemoveList(),
            "request_headers_to_add"),
        mutation(
            rc.getResponseHeadersToAddList(),
            rc.getResponseHeadersToRemoveList(),
            "response_headers_to_add"),
        rc.getIgnorePortInHostMatching(),
        rc.getMostSpecificHeaderMutationsWins(),
        internalOnlyHeaders(rc),
        rc.getIgnorePathParametersInPathMatching(),
        FilterConfigs.perRoute(
            rc.getTypedPerFilterConfigMap(), filters, "typed_per_filter_config"));
  }

  /** {@code internal_only_headers}, lower-cased (Envoy's LowerCaseString); each a valid name. */
  private static List<String> internalOnlyHeaders(RouteConfiguration rc)
      throws InvalidResourceException {
    List<String> out = new ArrayList<>(rc.getInternalOnlyHeadersCount());
    for (int i = 0; i < rc.getInternalOnlyHeadersCount(); i++) {
      String n = rc.getInternalOnlyHeaders(i);
      if (n.isEmpty() || !n.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ':')) {
        throw new InvalidResourceException(
            "internal_only_headers[" + i + "]", "not a header name: '" + n + "'");
      }
      out.add(n.toLowerCase(java.util.Locale.ROOT));
    }
    return out;
  }

  /** Envoy's default {@code max_direct_response_body_size_bytes}. */
  static final int DEFAULT_MAX_DIRECT_RESPONSE_BODY = 4096;

  private static int maxDirectResponseBody(RouteConfiguration rc) {
    if (!rc.hasMaxDirectResponseBodySizeBytes()) {
      return DEFAULT_MAX_DIRECT_RESPONSE_BODY;
    }
    long v = Integer.toUnsignedLong(rc.getMaxDirectResponseBodySizeBytes().getValue());
    return (int) Math.min(v, Integer.MAX_VALUE);
  }

  /**
   * What a route takes from above when it has none of its own: its virtual host's retry policy
   * (null: none), and the request mirror policies of its virtual host, else of the table, with the
   * field they came from.
   */
  private record Inherited(
      io.envoyproxy.envoy.config.route.v3.@org.jspecify.annotations.Nullable RetryPolicy retry,
      List<io.envoyproxy.envoy.config.route.v3.RouteAction.RequestMirrorPolicy> mirrors,
      String mirrorsField) {}

  /** The table's request mirror policies as a key part: empty when it has none. */
  private static String mirrorsKey(RouteConfiguration rc) {
    if (rc.getRequestMirrorPoliciesCount() == 0) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    for (var m : rc.getRequestMirrorPoliciesList()) {
      b.append(java.util.HexFormat.of().formatHex(m.toByteArray())).append(',');
    }
    return b.toString();
  }

  private static VirtualHost virtualHost(
      io.envoyproxy.envoy.config.route.v3.VirtualHost vh,
      String field,
      dev.bowline.proxy.http.filter.FilterRegistry filters,
      int maxBody,
      RouteConfiguration rc)
      throws InvalidResourceException {
    Inherited inherited =
        new Inherited(
            vh.hasRetryPolicy() ? vh.getRetryPolicy() : null,
            vh.getRequestMirrorPoliciesCount() > 0
                ? vh.getRequestMirrorPoliciesList()
                : rc.getRequestMirrorPoliciesList(),
            vh.getRequestMirrorPoliciesCount() > 0
                ? field + ".request_mirror_policies"
                : "request_mirror_policies");
    if (vh.getDomainsCount() == 0) {
      throw new InvalidResourceException(field + ".domains", "at least one domain is required");
    }
    for (int d = 0; d < vh.getDomainsCount(); d++) {
      String domain = vh.getDomains(d);
      if (domain.isEmpty()
          || (domain.length() > 1
              && domain.indexOf('*', 1) >= 0
              && domain.indexOf('*') != domain.length() - 1)) {
        throw new InvalidResourceException(
            field + ".domains[" + d + "]", "invalid domain '" + domain + "'");
      }
    }
    List<Route> routes = new ArrayList<>();
    for (int i = 0; i < vh.getRoutesCount(); i++) {
      routes.add(route(vh.getRoutes(i), field + ".routes[" + i + "]", inherited, filters, maxBody));
    }
    VirtualHost.RequireTls requireTls =
        switch (vh.getRequireTls()) {
          case NONE -> VirtualHost.RequireTls.NONE;
          case EXTERNAL_ONLY -> VirtualHost.RequireTls.EXTERNAL_ONLY;
          case ALL -> VirtualHost.RequireTls.ALL;
          case UNRECOGNIZED ->
              throw new InvalidResourceException(field + ".require_tls", "unknown value");
        };
    return new VirtualHost(
        vh.getName(),
        vh.getDomainsList(),
        routes,
        mutation(
            vh.getRequestHeadersToAddList(),
            vh.getRequestHeadersToRemoveList(),
            field + ".request_headers_to_add"),
        mutation(
            vh.getResponseHeadersToAddList(),
            vh.getResponseHeadersToRemoveList(),
            field + ".response_headers_to_add"),
        FilterConfigs.perRoute(
            vh.getTypedPerFilterConfigMap(), filters, field + ".typed_per_filter_config"),
        vh.getIncludeRequestAttemptCount(),
        vh.getIncludeAttemptCountInResponse(),
        requireTls,
        virtualClusters(vh, field),
        vh.getMetadata().getFilterMetadataMap(),
        vh.getIncludeIsTimeoutRetryHeader());
  }

  /**
   * {@code virtual_clusters}, then Envoy's catch-all {@code other} (none when the list is empty).
   * Each needs a name and, as in Envoy's {@code VirtualHostImpl}, at least one header.
   */
  private static List<dev.bowline.proxy.config.VirtualCluster> virtualClusters(
      io.envoyproxy.envoy.config.route.v3.VirtualHost vh, String field)
      throws InvalidResourceException {
    if (vh.getVirtualClustersCount() == 0) {
      return List.of();
    }
    List<dev.bowline.proxy.config.VirtualCluster> out = new ArrayList<>();
    for (int i = 0; i < vh.getVirtualClustersCount(); i++) {
      var vc = vh.getVirtualClusters(i);
      String f = field + ".virtual_clusters[" + i + "]";
      if (vc.getName().isEmpty()) {
        throw new InvalidResourceException(f + ".name", "must not be empty");
      }
      if (vc.getHeadersCount() == 0) {
        throw new InvalidResourceException(
            f + ".headers", "virtual clusters must define 'headers'");
      }
      List<HeaderMatch> headers = new ArrayList<>();
      for (int j = 0; j < vc.getHeadersCount(); j++) {
        headers.add(header(vc.getHeaders(j), f + ".headers[" + j + "]"));
      }
      out.add(new dev.bowline.proxy.config.VirtualCluster(vh.getName(), vc.getName(), headers));
    }
    out.add(
        new dev.bowline.proxy.config.VirtualCluster(
            vh.getName(), dev.bowline.proxy.config.VirtualCluster.OTHER, List.of()));
    return out;
  }

  @SuppressWarnings("deprecation") // append (BoolValue) is what many control planes still send
  static dev.bowline.proxy.config.HeaderMutation mutation(
      List<io.envoyproxy.envoy.config.core.v3.HeaderValueOption> add,
      List<String> remove,
      String field)
      throws InvalidResourceException {
    if (add.isEmpty() && remove.isEmpty()) {
      return dev.bowline.proxy.config.HeaderMutation.NONE;
    }
    List<dev.bowline.proxy.config.HeaderMutation.Add> adds = new ArrayList<>();
    for (int i = 0; i < add.size(); i++) {
      var o = add.get(i);
      String f = field + "[" + i + "]";
      String name = o.getHeader().getKey().toLowerCase(java.util.Locale.ROOT);
      if (name.isEmpty() || name.startsWith(":") || name.equals("host")) {
        throw new InvalidResourceException(
            f + ".header.key", "cannot set '" + o.getHeader().getKey() + "'");
      }
      String value = o.getHeader().getValue();
      if (value.contains("%")) {
        throw new InvalidResourceException(
            f + ".header.value", "header formatters (%...%) are not supported");
      }
      var action =
          o.hasAppend()
              ? (o.getAppend().getValue()
                  ? dev.bowline.proxy.config.HeaderMutation.Action.APPEND_IF_EXISTS_OR_ADD
                  : dev.bowline.proxy.config.HeaderMutation.Action.OVERWRITE_IF_EXISTS_OR_ADD)
              : switch (o.getAppendAction()) {
                case APPEND_IF_EXISTS_OR_ADD ->
                    dev.bowline.proxy.config.HeaderMutation.Action.APPEND_IF_EXISTS_OR_ADD;
                case ADD_IF_ABSENT -> dev.bowline.proxy.config.HeaderMutation.Action.ADD_IF_ABSENT;
                case OVERWRITE_IF_EXISTS_OR_ADD ->
                    dev.bowline.proxy.config.HeaderMutation.Action.OVERWRITE_IF_EXISTS_OR_ADD;
                case OVERWRITE_IF_EXISTS ->
                    dev.bowline.proxy.config.HeaderMutation.Action.OVERWRITE_IF_EXISTS;
                case UNRECOGNIZED ->
                    throw new InvalidResourceException(f + ".append_action", "unknown action");
              };
      adds.add(new dev.bowline.proxy.config.HeaderMutation.Add(name, value, action));
    }
    List<String> removes = remove.stream().map(n -> n.toLowerCase(java.util.Locale.ROOT)).toList();
    return new dev.bowline.proxy.config.HeaderMutation(adds, removes);
  }

  private static Route route(
      io.envoyproxy.envoy.config.route.v3.Route r,
      String field,
      Inherited inherited,
      dev.bowline.proxy.http.filter.FilterRegistry filters,
      int maxBody)
      throws InvalidResourceException {
    connectTermination(r, field);
    return new Route(
        r.getName(),
        match(r.getMatch(), field + ".match"),
        action(r, field, inherited, maxBody),
        mutation(
            r.getRequestHeadersToAddList(),
            r.getRequestHeadersToRemoveList(),
            field + ".request_headers_to_add"),
        mutation(
            r.getResponseHeadersToAddList(),
            r.getResponseHeadersToRemoveList(),
            field + ".response_headers_to_add"),
        FilterConfigs.perRoute(
            r.getTypedPerFilterConfigMap(), filters, field + ".typed_per_filter_config"),
        r.getDecorator().getOperation(),
        r.getMetadata().getFilterMetadataMap());
  }

  /**
   * CONNECT is terminated here ({@code upgrade_configs: [{upgrade_type: CONNECT, connect_config:
   * {}}]} on a {@code connect_matcher} route): the router opens a TCP connection to the cluster and
   * relays the tunnel's bytes. Forwarding the CONNECT request itself upstream (no {@code
   * connect_config}) and extended CONNECT on path routes are not supported, so they are refused.
   */
  private static void connectTermination(io.envoyproxy.envoy.config.route.v3.Route r, String field)
      throws InvalidResourceException {
    boolean connectMatcher = r.getMatch().hasConnectMatcher();
    boolean terminates = false;
    var ups = r.getRoute().getUpgradeConfigsList();
    for (int i = 0; i < ups.size(); i++) {
      var u = ups.get(i);
      if (!u.getUpgradeType().equalsIgnoreCase("CONNECT")) {
        continue;
      }
      String uf = field + ".route.upgrade_configs[" + i + "]";
      if (!connectMatcher) {
        throw new InvalidResourceException(
            uf + ".upgrade_type",
            "CONNECT needs match.connect_matcher (extended CONNECT is not supported)");
      }
      if (!u.hasConnectConfig()) {
        throw new InvalidResourceException(
            uf + ".connect_config",
            "required: forwarding CONNECT upstream is not supported, only terminating it");
      }
      if (u.getConnectConfig().hasProxyProtocolConfig()) {
        throw new InvalidResourceException(
            uf + ".connect_config.proxy_protocol_config", "not supported");
      }
      if (u.getConnectConfig().getAllowPost()) {
        throw new InvalidResourceException(uf + ".connect_config.allow_post", "not supported");
      }
      terminates = !u.hasEnabled() || u.getEnabled().getValue();
    }
    if (connectMatcher && r.hasRoute() && !terminates) {
      throw new InvalidResourceException(
          field + ".route.upgrade_configs",
          "a connect_matcher route needs {upgrade_type: CONNECT, connect_config: {}}: forwarding"
              + " CONNECT upstream is not supported, only terminating it");
    }
  }

  private static RouteMatch match(io.envoyproxy.envoy.config.route.v3.RouteMatch m, String field)
      throws InvalidResourceException {
    RouteMatch.PathMatch path =
        switch (m.getPathSpecifierCase()) {
          case PREFIX -> new RouteMatch.PathMatch.Prefix(m.getPrefix());
          case PATH -> new RouteMatch.PathMatch.Exact(m.getPath());
          case SAFE_REGEX ->
              new RouteMatch.PathMatch.Regex(
                  Protos.regex(m.getSafeRegex().getRegex(), field + ".safe_regex.regex"));
          case PATH_SEPARATED_PREFIX -> {
            String p = m.getPathSeparatedPrefix();
            if (!p.startsWith("/") || p.endsWith("/") || p.contains("?") || p.contains("#")) {
              throw new InvalidResourceException(
                  field + ".path_separated_prefix", "must start with / and not end with /");
            }
            yield new RouteMatch.PathMatch.SeparatedPrefix(p);
          }
          case CONNECT_MATCHER -> new RouteMatch.PathMatch.Connect();
          case PATH_MATCH_POLICY ->
              throw new InvalidResourceException(
                  field + "." + m.getPathSpecifierCase().name().toLowerCase(java.util.Locale.ROOT),
                  "not supported");
          case PATHSPECIFIER_NOT_SET ->
              throw new InvalidResourceException(
                  field, "one of prefix, path, safe_regex, path_separated_prefix is required");
        };
    if (m.hasGrpc()
        || m.hasTlsContext()
        || m.getDynamicMetadataCount() > 0
        || m.hasRuntimeFraction()) {
      throw new InvalidResourceException(
          field,
          "grpc, tls_context, dynamic_metadata and runtime_fraction matches are not supported");
    }
    boolean caseSensitive = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
    List<HeaderMatch> headers = new ArrayList<>();
    for (int i = 0; i < m.getHeadersCount(); i++) {
      headers.add(header(m.getHeaders(i), field + ".headers[" + i + "]"));
    }
    List<QueryMatch> query = new ArrayList<>();
    for (int i = 0; i < m.getQueryParametersCount(); i++) {
      query.add(query(m.getQueryParameters(i), field + ".query_parameters[" + i + "]"));
    }
    return new RouteMatch(path, caseSensitive, headers, query);
  }

  @SuppressWarnings("deprecation") // exact_match & co. are still what many control planes send
  static HeaderMatch header(HeaderMatcher h, String field) throws InvalidResourceException {
    if (h.getName().isEmpty()) {
      throw new InvalidResourceException(field + ".name", "must not be empty");
    }
    String name = h.getName().toLowerCase(java.util.Locale.ROOT);
    Optional<StringMatch> value =
        switch (h.getHeaderMatchSpecifierCase()) {
          case EXACT_MATCH -> Optional.of(new StringMatch.Exact(h.getExactMatch(), false));
          case PREFIX_MATCH -> Optional.of(new StringMatch.Prefix(h.getPrefixMatch(), false));
          case SUFFIX_MATCH -> Optional.of(new StringMatch.Suffix(h.getSuffixMatch(), false));
          case CONTAINS_MATCH -> Optional.of(new StringMatch.Contains(h.getContainsMatch()));
          case SAFE_REGEX_MATCH ->
              Optional.of(
                  new StringMatch.Regex(
                      Protos.regex(
                          h.getSafeRegexMatch().getRegex(), field + ".safe_regex_match.regex")));
          case STRING_MATCH ->
              Optional.of(Protos.stringMatch(h.getStringMatch(), field + ".string_match"));
          case PRESENT_MATCH, HEADERMATCHSPECIFIER_NOT_SET -> Optional.empty();
          case RANGE_MATCH ->
              throw new InvalidResourceException(field + ".range_match", "not supported");
        };
    boolean present =
        h.getHeaderMatchSpecifierCase() != HeaderMatcher.HeaderMatchSpecifierCase.PRESENT_MATCH
            || h.getPresentMatch();
    return new HeaderMatch(name, value, present, h.getInvertMatch());
  }

  private static QueryMatch query(QueryParameterMatcher q, String field)
      throws InvalidResourceException {
    if (q.getName().isEmpty()) {
      throw new InvalidResourceException(field + ".name", "must not be empty");
    }
    if (q.hasStringMatch()) {
      return new QueryMatch(
          q.getName(),
          Optional.of(Protos.stringMatch(q.getStringMatch(), field + ".string_match")));
    }
    return new QueryMatch(q.getName(), Optional.empty());
  }

  private static RouteAction action(
      io.envoyproxy.envoy.config.route.v3.Route r, String field, Inherited inherited, int maxBody)
      throws InvalidResourceException {
    return switch (r.getActionCase()) {
      case ROUTE -> forward(r.getRoute(), field + ".route", inherited);
      case DIRECT_RESPONSE -> {
        var d = r.getDirectResponse();
        if (d.getStatus() < 200 || d.getStatus() > 599) {
          throw new InvalidResourceException(
              field + ".direct_response.status", "must be in [200, 599], got " + d.getStatus());
        }
        if (d.hasBody() && !d.getBody().hasInlineString() && !d.getBody().hasInlineBytes()) {
          throw new InvalidResourceException(
              field + ".direct_response.body", "only inline_string and inline_bytes are supported");
        }
        String body =
            d.getBody().hasInlineBytes()
                ? d.getBody().getInlineBytes().toStringUtf8()
                : d.getBody().getInlineString();
        int size =
            d.getBody().hasInlineBytes()
                ? d.getBody().getInlineBytes().size()
                : d.getBody().getInlineStringBytes().size();
        if (size > maxBody) {
          // Envoy: the body is read with the table's max_direct_response_body_size_bytes
          throw new InvalidResourceException(
              field + ".direct_response.body",
              "response body size is "
                  + size
                  + " bytes; maximum is "
                  + maxBody
                  + " (max_direct_response_body_size_bytes)");
        }
        yield new RouteAction.DirectResponse(d.getStatus(), body);
      }
      case REDIRECT -> redirect(r.getRedirect(), field + ".redirect");
      case FILTER_ACTION, NON_FORWARDING_ACTION ->
          throw new InvalidResourceException(
              field,
              r.getActionCase().name().toLowerCase(java.util.Locale.ROOT) + " is not supported");
      case ACTION_NOT_SET ->
          throw new InvalidResourceException(
              field, "one of route, redirect, direct_response is required");
    };
  }

  private static RouteAction redirect(RedirectAction r, String field)
      throws InvalidResourceException {
    int status =
        switch (r.getResponseCode()) {
          case MOVED_PERMANENTLY -> 301;
          case FOUND -> 302;
          case SEE_OTHER -> 303;
          case TEMPORARY_REDIRECT -> 307;
          case PERMANENT_REDIRECT -> 308;
          case UNRECOGNIZED ->
              throw new InvalidResourceException(field + ".response_code", "unknown code");
        };
    Optional<String> scheme =
        r.hasHttpsRedirect() && r.getHttpsRedirect()
            ? Optional.of("https")
            : r.getSchemeRewriteSpecifierCase()
                    == RedirectAction.SchemeRewriteSpecifierCase.SCHEME_REDIRECT
                ? Optional.of(r.getSchemeRedirect())
                : Optional.empty();
    Optional<String> host =
        r.getHostRedirect().isEmpty() ? Optional.empty() : Optional.of(r.getHostRedirect());
    Optional<String> path =
        r.hasPathRedirect() ? Optional.of(r.getPathRedirect()) : Optional.empty();
    if (r.getPortRedirect() > 65535) {
      throw new InvalidResourceException(field + ".port_redirect", "must be at most 65535");
    }
    var extras =
        new RouteAction.RedirectExtras(
            r.getPortRedirect(),
            r.hasPrefixRewrite() ? Optional.of(r.getPrefixRewrite()) : Optional.empty(),
            r.hasRegexRewrite()
                ? Optional.of(regexRewrite(r.getRegexRewrite(), field + ".regex_rewrite"))
                : Optional.empty(),
            r.getStripQuery());
    return new RouteAction.Redirect(status, scheme, host, path, extras);
  }

  private static RouteAction forward(
      io.envoyproxy.envoy.config.route.v3.RouteAction a, String field, Inherited inherited)
      throws InvalidResourceException {
    ClusterChoice clusters =
        switch (a.getClusterSpecifierCase()) {
          case CLUSTER -> {
            if (a.getCluster().isEmpty()) {
              throw new InvalidResourceException(field + ".cluster", "must not be empty");
            }
            yield new ClusterChoice.Single(a.getCluster());
          }
          case WEIGHTED_CLUSTERS -> weighted(a.getWeightedClusters(), field + ".weighted_clusters");
          case CLUSTER_HEADER -> {
            String header = a.getClusterHeader().toLowerCase(java.util.Locale.ROOT);
            if (header.isEmpty() || header.startsWith(":")) {
              throw new InvalidResourceException(
                  field + ".cluster_header", "must name a regular header");
            }
            yield new ClusterChoice.FromHeader(header);
          }
          case CLUSTER_SPECIFIER_PLUGIN, INLINE_CLUSTER_SPECIFIER_PLUGIN ->
              throw new InvalidResourceException(
                  field
                      + "."
                      + a.getClusterSpecifierCase().name().toLowerCase(java.util.Locale.ROOT),
                  "not supported");
          case CLUSTERSPECIFIER_NOT_SET ->
              throw new InvalidResourceException(
                  field, "one of cluster, weighted_clusters is required");
        };
    Optional<String> prefixRewrite =
        a.getPrefixRewrite().isEmpty() ? Optional.empty() : Optional.of(a.getPrefixRewrite());
    Optional<String> hostRewrite =
        a.getHostRewriteSpecifierCase()
                == io.envoyproxy.envoy.config.route.v3.RouteAction.HostRewriteSpecifierCase
                    .HOST_REWRITE_LITERAL
            ? Optional.of(a.getHostRewriteLiteral())
            : Optional.empty();
    var hostRewriteOther = hostRewrite(a, field);
    Duration timeout = a.hasTimeout() ? Protos.duration(a.getTimeout()) : DEFAULT_TIMEOUT;
    if (timeout.isNegative()) {
      throw new InvalidResourceException(field + ".timeout", "must not be negative");
    }
    var policy = a.hasRetryPolicy() ? a.getRetryPolicy() : inherited.retry();
    int retries = 0;
    if (policy != null) {
      // Only retries that are safe without buffering are made: the connection failed, nothing
      // was sent. Envoy's 5xx, gateway-error, reset and connect-failure all cover that case.
      for (String on : policy.getRetryOn().split(",")) {
        switch (on.trim()) {
          case "connect-failure", "5xx", "gateway-error", "reset", "refused-stream" ->
              retries = policy.hasNumRetries() ? policy.getNumRetries().getValue() : 1;
          default -> {}
        }
      }
    }
    Optional<dev.bowline.proxy.config.RetryPolicy> retryPolicy =
        policy == null
            ? Optional.empty()
            : Optional.of(
                RetryPolicies.parse(
                    policy,
                    a.hasRetryPolicy() ? field + ".retry_policy" : "virtual_host.retry_policy"));
    Optional<Duration> idle = Optional.empty();
    if (a.hasIdleTimeout()) {
      idle = Optional.of(Protos.duration(a.getIdleTimeout()));
      if (idle.get().isNegative()) {
        throw new InvalidResourceException(field + ".idle_timeout", "must not be negative");
      }
    }
    List<dev.bowline.proxy.config.RequestMirror> mirrors = new ArrayList<>();
    // Envoy: the route's own policies, else its virtual host's, else the table's
    var mirrorList =
        a.getRequestMirrorPoliciesCount() > 0
            ? a.getRequestMirrorPoliciesList()
            : inherited.mirrors();
    String mirrorField =
        a.getRequestMirrorPoliciesCount() > 0
            ? field + ".request_mirror_policies"
            : inherited.mirrorsField();
    for (int i = 0; i < mirrorList.size(); i++) {
      var m = mirrorList.get(i);
      String mf = mirrorField + "[" + i + "]";
      if (m.getCluster().isEmpty()) {
        throw new InvalidResourceException(mf + ".cluster", "must not be empty");
      }
      int perMillion =
          m.hasRuntimeFraction()
              ? Protos.perMillion(
                  m.getRuntimeFraction().getDefaultValue(), mf + ".runtime_fraction")
              : 1_000_000;
      mirrors.add(new dev.bowline.proxy.config.RequestMirror(m.getCluster(), perMillion));
    }
    var extra =
        new dev.bowline.proxy.config.ForwardPolicy(
            retryPolicy,
            idle,
            mirrors,
            a.hasRegexRewrite()
                ? Optional.of(regexRewrite(a.getRegexRewrite(), field + ".regex_rewrite"))
                : Optional.empty(),
            maxStreamDuration(a, field),
            hostRewriteOther,
            switch (a.getClusterNotFoundResponseCode()) {
              case SERVICE_UNAVAILABLE -> 503;
              case NOT_FOUND -> 404;
              case INTERNAL_SERVER_ERROR -> 500;
              case UNRECOGNIZED ->
                  throw new InvalidResourceException(
                      field + ".cluster_not_found_response_code", "unknown code");
            },
            internalRedirect(a, field));
    return new RouteAction.Forward(
        clusters,
        prefixRewrite,
        hostRewrite,
        timeout,
        retries,
        HashPolicyParser.parse(a.getHashPolicyList(), field + ".hash_policy"),
        extra,
        maxGrpcTimeoutMillis(a, field),
        grpcTimeoutOffsetMillis(a, field));
  }

  /**
   * {@code host_rewrite_header}, {@code host_rewrite_path_regex}, {@code auto_host_rewrite}, {@code
   * append_x_forwarded_host}.
   */
  private static dev.bowline.proxy.config.ForwardPolicy.HostRewrite hostRewrite(
      io.envoyproxy.envoy.config.route.v3.RouteAction a, String field)
      throws InvalidResourceException {
    Optional<String> header = Optional.empty();
    Optional<dev.bowline.proxy.config.ForwardPolicy.RegexRewrite> regex = Optional.empty();
    switch (a.getHostRewriteSpecifierCase()) {
      case HOST_REWRITE_HEADER -> {
        String h = a.getHostRewriteHeader().toLowerCase(java.util.Locale.ROOT);
        if (h.isEmpty() || h.startsWith(":") || !token(h)) {
          throw new InvalidResourceException(
              field + ".host_rewrite_header", "must name a regular header");
        }
        header = Optional.of(h);
      }
      case HOST_REWRITE_PATH_REGEX ->
          regex =
              Optional.of(
                  regexRewrite(a.getHostRewritePathRegex(), field + ".host_rewrite_path_regex"));
      default -> {}
    }
    boolean auto =
        a.getHostRewriteSpecifierCase()
                == io.envoyproxy.envoy.config.route.v3.RouteAction.HostRewriteSpecifierCase
                    .AUTO_HOST_REWRITE
            && a.getAutoHostRewrite().getValue();
    if (header.isEmpty() && regex.isEmpty() && !auto && !a.getAppendXForwardedHost()) {
      return dev.bowline.proxy.config.ForwardPolicy.HostRewrite.NONE;
    }
    return new dev.bowline.proxy.config.ForwardPolicy.HostRewrite(
        header, regex, a.getAppendXForwardedHost(), auto);
  }

  /** Whether {@code s} is an HTTP token (RFC 9110 5.6.2), what a header name is. */
  private static boolean token(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || (c >= 'A' && c <= 'Z')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The route's {@code max_grpc_timeout} in ms (0: no cap), -1 when unset. Deprecated in Envoy's
   * API for {@code max_stream_duration.grpc_timeout_header_max}, but it is what istiod sends to
   * every sidecar and gateway route, and Envoy still honours it.
   */
  @SuppressWarnings("deprecation")
  private static long maxGrpcTimeoutMillis(
      io.envoyproxy.envoy.config.route.v3.RouteAction a, String field)
      throws InvalidResourceException {
    if (!a.hasMaxGrpcTimeout()) {
      return -1;
    }
    Duration d = Protos.duration(a.getMaxGrpcTimeout());
    if (d.isNegative()) {
      throw new InvalidResourceException(field + ".max_grpc_timeout", "must not be negative");
    }
    return d.toMillis();
  }

  /** The route's {@code grpc_timeout_offset} in ms, 0 when unset. */
  @SuppressWarnings("deprecation")
  private static long grpcTimeoutOffsetMillis(
      io.envoyproxy.envoy.config.route.v3.RouteAction a, String field)
      throws InvalidResourceException {
    Duration d =
        a.hasGrpcTimeoutOffset() ? Protos.duration(a.getGrpcTimeoutOffset()) : Duration.ZERO;
    if (d.isNegative()) {
      throw new InvalidResourceException(field + ".grpc_timeout_offset", "must not be negative");
    }
    return d.toMillis();
  }

  /** Envoy's substitution ({@code \\1} for a group) in {@link java.util.regex.Matcher} syntax. */
  static dev.bowline.proxy.config.ForwardPolicy.RegexRewrite regexRewrite(
      io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute r, String field)
      throws InvalidResourceException {
    var pattern = Protos.regex(r.getPattern().getRegex(), field + ".pattern.regex");
    String sub = r.getSubstitution();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < sub.length(); i++) {
      char c = sub.charAt(i);
      if (c == '\\' && i + 1 < sub.length() && Character.isDigit(sub.charAt(i + 1))) {
        out.append('$').append(sub.charAt(++i));
      } else if (c == '$' || c == '\\') {
        out.append('\\').append(c);
      } else {
        out.append(c);
      }
    }
    return new dev.bowline.proxy.config.ForwardPolicy.RegexRewrite(pattern, out.toString());
  }

  private static ClusterChoice weighted(
      io.envoyproxy.envoy.config.route.v3.WeightedCluster w, String field)
      throws InvalidResourceException {
    List<ClusterChoice.WeightedCluster> list = new ArrayList<>();
    long total = 0;
    for (int i = 0; i < w.getClustersCount(); i++) {
      var c = w.getClusters(i);
      if (c.getName().isEmpty()) {
        throw new InvalidResourceException(
            field + ".clusters[" + i + "].name", "must not be empty");
      }
      int weight = c.hasWeight() ? c.getWeight().getValue() : 0;
      total += weight;
      if (weight > 0) {
        String cf = field + ".clusters[" + i + "]";
        list.add(
            new ClusterChoice.WeightedCluster(
                c.getName(),
                weight,
                mutation(
                    c.getRequestHeadersToAddList(),
                    c.getRequestHeadersToRemoveList(),
                    cf + ".request_headers_to_add"),
                mutation(
                    c.getResponseHeadersToAddList(),
                    c.getResponseHeadersToRemoveList(),
                    cf + ".response_headers_to_add")));
      }
    }
    if (total <= 0 || total > Integer.MAX_VALUE) {
      throw new InvalidResourceException(
          field + ".clusters", "weights must add up to a positive 32-bit number, got " + total);
    }
    return new ClusterChoice.Weighted(list);
  }

  /**
   * The route's {@code max_stream_duration.max_stream_duration} (Envoy: it replaces the connection
   * manager's for the route's streams; zero disables), empty when unset.
   */
  private static Optional<Duration> maxStreamDuration(
      io.envoyproxy.envoy.config.route.v3.RouteAction a, String field)
      throws InvalidResourceException {
    if (!a.hasMaxStreamDuration() || !a.getMaxStreamDuration().hasMaxStreamDuration()) {
      return Optional.empty();
    }
    Duration d = Protos.duration(a.getMaxStreamDuration().getMaxStreamDuration());
    if (d.isNegative()) {
      throw new InvalidResourceException(
          field + ".max_stream_duration.max_stream_duration", "must not be negative");
    }
    return Optional.of(d);
  }

  /** Redirect codes Envoy's internal redirects accept; others in the list are ignored. */
  private static final int[] REDIRECT_CODES = {301, 302, 303, 307, 308};

  /**
   * {@code internal_redirect_policy} as Envoy's {@code InternalRedirectPolicyImpl} reads it, else
   * the deprecated {@code internal_redirect_action: HANDLE_INTERNAL_REDIRECT} with {@code
   * max_internal_redirects}, as Envoy's {@code createInternalRedirectPolicy} takes them.
   */
  @SuppressWarnings("deprecation")
  private static Optional<dev.bowline.proxy.config.InternalRedirect> internalRedirect(
      io.envoyproxy.envoy.config.route.v3.RouteAction a, String field)
      throws InvalidResourceException {
    if (!a.hasInternalRedirectPolicy()) {
      // Envoy: the deprecated form is the policy's defaults with its own redirect limit
      if (a.getInternalRedirectAction()
          != io.envoyproxy.envoy.config.route.v3.RouteAction.InternalRedirectAction
              .HANDLE_INTERNAL_REDIRECT) {
        return Optional.empty(); // PASS_THROUGH (a limit alone does nothing either)
      }
      int max = a.hasMaxInternalRedirects() ? a.getMaxInternalRedirects().getValue() : 1;
      return Optional.of(
          new dev.bowline.proxy.config.InternalRedirect(
              max < 0 ? Integer.MAX_VALUE : max,
              1 << (302 - 300),
              false,
              List.of(),
              false,
              null,
              false));
    }
    var p = a.getInternalRedirectPolicy();
    String f = field + ".internal_redirect_policy";
    int max = p.hasMaxInternalRedirects() ? p.getMaxInternalRedirects().getValue() : 1;
    if (max < 0) {
      max = Integer.MAX_VALUE; // an unsigned value past int
    }
    int codes = 0;
    for (int c : p.getRedirectResponseCodesList()) {
      for (int ok : REDIRECT_CODES) {
        if (c == ok) {
          codes |= 1 << (c - 300);
        }
      }
    }
    if (p.getRedirectResponseCodesCount() == 0) {
      codes = 1 << (302 - 300);
    }
    List<String> copy = new ArrayList<>();
    for (int i = 0; i < p.getResponseHeadersToCopyCount(); i++) {
      String n = p.getResponseHeadersToCopy(i).toLowerCase(java.util.Locale.ROOT);
      if (n.isEmpty()
          || n.startsWith(":")
          || n.equals("host")
          || !n.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
        throw new InvalidResourceException(
            f + ".response_headers_to_copy[" + i + "]",
            "cannot copy restricted header '" + p.getResponseHeadersToCopy(i) + "'");
      }
      copy.add(n);
    }
    boolean previous = false;
    boolean safeScheme = false;
    java.util.Set<String> allowed = null;
    for (int i = 0; i < p.getPredicatesCount(); i++) {
      var pred = p.getPredicates(i);
      String pf = f + ".predicates[" + i + "].typed_config";
      var any = pred.getTypedConfig();
      String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
      try {
        switch (type) {
          case "envoy.extensions.internal_redirect.previous_routes.v3.PreviousRoutesConfig" ->
              previous = true;
          case "envoy.extensions.internal_redirect.safe_cross_scheme.v3.SafeCrossSchemeConfig" ->
              safeScheme = true;
          case "envoy.extensions.internal_redirect.allow_listed_routes.v3.AllowListedRoutesConfig" -> {
            var names =
                any.unpack(
                        io.envoyproxy.envoy.extensions.internal_redirect.allow_listed_routes.v3
                            .AllowListedRoutesConfig.class)
                    .getAllowedRouteNamesList();
            if (names.isEmpty()) {
              throw new InvalidResourceException(
                  pf + ".allowed_route_names", "at least one route name is required");
            }
            allowed = allowed == null ? new java.util.HashSet<>() : allowed;
            allowed.addAll(names);
          }
          default ->
              throw new InvalidResourceException(
                  pf, "unknown internal redirect predicate '" + any.getTypeUrl() + "'");
        }
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new InvalidResourceException(pf, "cannot be decoded: " + e.getMessage());
      }
    }
    return Optional.of(
        new dev.bowline.proxy.config.InternalRedirect(
            max, codes, p.getAllowCrossSchemeRedirect(), copy, previous, allowed, safeScheme));
  }

  static final java.util.Set<String> HONOURED =
      java.util.Set.of(
          "name",
          // false (what istiod sends) is this proxy's behaviour: a route to a cluster not known
          // yet answers 503 NC at request time; true is reported by nestedIgnored
          "validate_clusters",
          "internal_only_headers",
          "request_headers_to_add",
          "request_headers_to_remove",
          "response_headers_to_add",
          "response_headers_to_remove",
          "virtual_hosts.name",
          "virtual_hosts.domains",
          "virtual_hosts.request_headers_to_add",
          "virtual_hosts.request_headers_to_remove",
          "virtual_hosts.response_headers_to_add",
          "virtual_hosts.response_headers_to_remove",
          "virtual_hosts.routes.name",
          "virtual_hosts.routes.decorator.operation",
          // exposed: config_dump (the resource as received) and %METADATA(ROUTE:...)%
          "virtual_hosts.routes.metadata.filter_metadata",
          // %METADATA(VIRTUAL_HOST:...)%
          "virtual_hosts.metadata.filter_metadata",
          "virtual_hosts.routes.decorator.propagate",
          "virtual_hosts.routes.match",
          "virtual_hosts.routes.direct_response",
          "virtual_hosts.routes.redirect",
          "virtual_hosts.routes.request_headers_to_add",
          "virtual_hosts.routes.request_headers_to_remove",
          "virtual_hosts.routes.response_headers_to_add",
          "virtual_hosts.routes.response_headers_to_remove",
          "virtual_hosts.routes.route.cluster",
          "virtual_hosts.routes.route.cluster_header",
          "virtual_hosts.routes.route.weighted_clusters.clusters.name",
          "virtual_hosts.routes.route.weighted_clusters.clusters.weight",
          "virtual_hosts.routes.route.weighted_clusters.clusters.request_headers_to_add",
          "virtual_hosts.routes.route.weighted_clusters.clusters.request_headers_to_remove",
          "virtual_hosts.routes.route.weighted_clusters.clusters.response_headers_to_add",
          "virtual_hosts.routes.route.weighted_clusters.clusters.response_headers_to_remove",
          "virtual_hosts.routes.route.weighted_clusters.total_weight",
          "virtual_hosts.routes.route.prefix_rewrite",
          "virtual_hosts.routes.route.upgrade_configs.upgrade_type",
          "virtual_hosts.routes.route.upgrade_configs.connect_config",
          "virtual_hosts.routes.route.host_rewrite_literal",
          "virtual_hosts.routes.route.host_rewrite_header",
          "virtual_hosts.routes.route.auto_host_rewrite",
          "virtual_hosts.routes.route.host_rewrite_path_regex",
          "virtual_hosts.routes.route.append_x_forwarded_host",
          "virtual_hosts.routes.route.cluster_not_found_response_code",
          "virtual_hosts.routes.route.internal_redirect_policy.max_internal_redirects",
          "virtual_hosts.routes.route.internal_redirect_action",
          "virtual_hosts.routes.route.max_internal_redirects",
          "virtual_hosts.routes.route.internal_redirect_policy.redirect_response_codes",
          "virtual_hosts.routes.route.internal_redirect_policy.predicates",
          "virtual_hosts.routes.route.internal_redirect_policy.allow_cross_scheme_redirect",
          "virtual_hosts.routes.route.internal_redirect_policy.response_headers_to_copy",
          "ignore_port_in_host_matching",
          "ignore_path_parameters_in_path_matching",
          "max_direct_response_body_size_bytes",
          "most_specific_header_mutations_wins",
          "virtual_hosts.require_tls",
          // vhost.<vh>.vcluster.<name>.upstream_rq_* (and Envoy's catch-all "other")
          "virtual_hosts.virtual_clusters",
          "virtual_hosts.include_attempt_count_in_response",
          "virtual_hosts.include_is_timeout_retry_header",
          "virtual_hosts.routes.route.timeout",
          "virtual_hosts.routes.route.max_grpc_timeout",
          "virtual_hosts.routes.route.grpc_timeout_offset",
          "virtual_hosts.routes.route.hash_policy",
          "virtual_hosts.retry_policy.retry_on",
          "virtual_hosts.retry_policy.per_try_timeout",
          "virtual_hosts.retry_policy.retriable_status_codes",
          "virtual_hosts.retry_policy.retriable_headers",
          "virtual_hosts.retry_policy.retry_back_off",
          "virtual_hosts.retry_policy.retry_host_predicate",
          "virtual_hosts.retry_policy.host_selection_retry_max_attempts",
          "virtual_hosts.retry_policy.retry_priority",
          "virtual_hosts.routes.route.retry_policy.per_try_timeout",
          "virtual_hosts.routes.route.retry_policy.retriable_status_codes",
          "virtual_hosts.routes.route.retry_policy.retriable_headers",
          "virtual_hosts.routes.route.retry_policy.retry_back_off",
          "virtual_hosts.routes.route.retry_policy.retry_host_predicate",
          "virtual_hosts.routes.route.retry_policy.host_selection_retry_max_attempts",
          "virtual_hosts.routes.route.retry_policy.retry_priority",
          "virtual_hosts.routes.route.idle_timeout",
          "virtual_hosts.routes.route.max_stream_duration.max_stream_duration",
          "virtual_hosts.routes.route.regex_rewrite",
          "virtual_hosts.routes.route.request_mirror_policies",
          // inherited by the routes without their own (Envoy's ShadowPolicy inheritance)
          "virtual_hosts.request_mirror_policies",
          "request_mirror_policies",
          "virtual_hosts.routes.typed_per_filter_config",
          "virtual_hosts.typed_per_filter_config",
          // a filter's config where neither the route nor its virtual host has one
          "typed_per_filter_config",
          "virtual_hosts.include_request_attempt_count",
          "virtual_hosts.retry_policy.num_retries",
          "virtual_hosts.routes.route.retry_policy.retry_on",
          "virtual_hosts.routes.route.retry_policy.num_retries");

  @Override
  java.util.Set<String> honouredFields() {
    return HONOURED;
  }

  @Override
  java.util.Set<String> nestedIgnored(RouteConfiguration proto) {
    return proto.hasValidateClusters() && proto.getValidateClusters().getValue()
        ? java.util.Set.of("validate_clusters")
        : java.util.Set.of();
  }
}
