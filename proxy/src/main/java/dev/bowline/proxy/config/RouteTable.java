package dev.bowline.proxy.config;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A route configuration: virtual hosts indexed for selection by authority as Envoy does: exact
 * domain first, then the longest suffix wildcard ({@code *.example.com}), then the longest prefix
 * wildcard ({@code foo.*}), then {@code *}.
 *
 * @param ignorePort {@code ignore_port_in_host_matching}: the authority's port is left out before
 *     the virtual host is looked up (a domain written with a port then matches nothing)
 * @param mostSpecificWins {@code most_specific_header_mutations_wins}: header mutations apply from
 *     the least specific (this table) to the most (a weighted cluster), so the most specific one's
 *     value is what stays; by default the order is the reverse and this table's wins
 * @param internalOnlyHeaders {@code internal_only_headers}, lower-cased: the connection manager
 *     removes them from requests it does not find internal
 * @param ignorePathParameters {@code ignore_path_parameters_in_path_matching}: routes match the
 *     path cut at its first {@code ;} (Envoy's {@code sanitizePathBeforePathMatching}); what goes
 *     upstream keeps it
 * @param filterConfigs its {@code typed_per_filter_config}: what a filter takes when neither the
 *     route nor its virtual host has a config for it (Envoy's most specific first)
 */
public record RouteTable(
    String name,
    List<VirtualHost> virtualHosts,
    Index index,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders,
    boolean ignorePort,
    boolean mostSpecificWins,
    List<String> internalOnlyHeaders,
    boolean ignorePathParameters,
    Map<String, Object> filterConfigs) {
  public RouteTable {
    internalOnlyHeaders = List.copyOf(internalOnlyHeaders);
    filterConfigs = Map.copyOf(filterConfigs);
  }

  public RouteTable(String name, List<VirtualHost> virtualHosts) {
    this(name, virtualHosts, HeaderMutation.NONE, HeaderMutation.NONE);
  }

  public RouteTable(
      String name,
      List<VirtualHost> virtualHosts,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders) {
    this(name, virtualHosts, requestHeaders, responseHeaders, false, false);
  }

  public RouteTable(
      String name,
      List<VirtualHost> virtualHosts,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      boolean ignorePort,
      boolean mostSpecificWins) {
    this(
        name,
        virtualHosts,
        requestHeaders,
        responseHeaders,
        ignorePort,
        mostSpecificWins,
        List.of());
  }

  public RouteTable(
      String name,
      List<VirtualHost> virtualHosts,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      boolean ignorePort,
      boolean mostSpecificWins,
      List<String> internalOnlyHeaders) {
    this(
        name,
        virtualHosts,
        requestHeaders,
        responseHeaders,
        ignorePort,
        mostSpecificWins,
        internalOnlyHeaders,
        false,
        Map.of());
  }

  public RouteTable(
      String name,
      List<VirtualHost> virtualHosts,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      boolean ignorePort,
      boolean mostSpecificWins,
      List<String> internalOnlyHeaders,
      boolean ignorePathParameters,
      Map<String, Object> filterConfigs) {
    this(
        name,
        List.copyOf(virtualHosts),
        Index.of(virtualHosts),
        requestHeaders,
        responseHeaders,
        ignorePort,
        mostSpecificWins,
        internalOnlyHeaders,
        ignorePathParameters,
        filterConfigs);
  }

  /**
   * The path routes match: {@code path} cut at its first {@code ;} with {@link
   * #ignorePathParameters}.
   */
  public String matchPath(String path) {
    if (!ignorePathParameters) {
      return path;
    }
    int semi = path.indexOf(';');
    return semi < 0 ? path : path.substring(0, semi);
  }

  /** The virtual host serving {@code authority} (port included or not), if any. */
  public Optional<VirtualHost> select(String authority) {
    return Optional.ofNullable(pick(authority));
  }

  /** As {@link #select}, null when no virtual host matches (no {@code Optional} per request). */
  public @org.jspecify.annotations.Nullable VirtualHost pick(String authority) {
    String host = authority.toLowerCase(Locale.ROOT);
    if (ignorePort) {
      int port = portStart(host);
      return index.pick(port < 0 ? host : host.substring(0, port));
    }
    VirtualHost vh = index.pick(host);
    if (vh == null) {
      int colon = host.lastIndexOf(':');
      if (colon > 0 && host.indexOf(']') < colon) {
        vh = index.pick(host.substring(0, colon));
      }
    }
    return vh;
  }

  /**
   * Where the {@code :port} of {@code host} starts, -1 when it has none: its last colon, unless an
   * IPv6 literal's {@code ]} comes after it (Envoy's {@code HeaderUtility::getPortStart}, which
   * does not look at what follows the colon).
   */
  static int portStart(String host) {
    int colon = host.lastIndexOf(':');
    return colon >= 0 && host.lastIndexOf(']') < colon ? colon : -1;
  }

  /** Lookup structure built once per route table. */
  public record Index(
      Map<String, VirtualHost> exact,
      List<Map.Entry<String, VirtualHost>> suffixes,
      List<Map.Entry<String, VirtualHost>> prefixes,
      Optional<VirtualHost> any) {
    static Index of(List<VirtualHost> hosts) {
      Map<String, VirtualHost> exact = new HashMap<>();
      List<Map.Entry<String, VirtualHost>> suffixes = new java.util.ArrayList<>();
      List<Map.Entry<String, VirtualHost>> prefixes = new java.util.ArrayList<>();
      VirtualHost any = null;
      for (VirtualHost vh : hosts) {
        for (String d : vh.domains()) {
          String domain = d.toLowerCase(Locale.ROOT);
          if (domain.equals("*")) {
            any = any == null ? vh : any;
          } else if (domain.startsWith("*")) {
            suffixes.add(Map.entry(domain.substring(1), vh));
          } else if (domain.endsWith("*")) {
            prefixes.add(Map.entry(domain.substring(0, domain.length() - 1), vh));
          } else {
            exact.putIfAbsent(domain, vh);
          }
        }
      }
      suffixes.sort((a, b) -> b.getKey().length() - a.getKey().length());
      prefixes.sort((a, b) -> b.getKey().length() - a.getKey().length());
      return new Index(
          Map.copyOf(exact),
          List.copyOf(suffixes),
          List.copyOf(prefixes),
          Optional.ofNullable(any));
    }

    @org.jspecify.annotations.Nullable
    VirtualHost pick(String host) {
      VirtualHost vh = exact.get(host);
      if (vh != null) {
        return vh;
      }
      // indexed loops: no iterator per request, also where escape analysis does not remove it
      for (int i = 0, n = suffixes.size(); i < n; i++) {
        Map.Entry<String, VirtualHost> e = suffixes.get(i);
        // Envoy: a wildcard matches at least one character, "*.foo.com" never matches "foo.com"
        if (host.length() > e.getKey().length() && host.endsWith(e.getKey())) {
          return e.getValue();
        }
      }
      for (int i = 0, n = prefixes.size(); i < n; i++) {
        Map.Entry<String, VirtualHost> e = prefixes.get(i);
        if (host.length() > e.getKey().length() && host.startsWith(e.getKey())) {
          return e.getValue();
        }
      }
      return any.orElse(null);
    }
  }
}
