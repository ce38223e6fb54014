package dev.bowline.proxy.config;

import java.util.List;
import java.util.Map;

/**
 * A virtual host: its domains, routes in order (first match wins), its header mutations, its {@code
 * typed_per_filter_config} ({@code filterConfigs}, as on {@link Route}) and whether it sends {@code
 * x-envoy-attempt-count} upstream ({@code include_request_attempt_count}), on the response ({@code
 * include_attempt_count_in_response}) and its {@code require_tls}. {@code virtualClusters} is
 * empty, or its {@code virtual_clusters} in order followed by Envoy's catch-all {@code other} (no
 * headers, so it matches what the others do not). {@code metadata} is its {@code
 * metadata.filter_metadata}, which access logs read ({@code %METADATA(VIRTUAL_HOST:...)%}); with
 * {@code includeIsTimeoutRetryHeader} each retry carries {@code x-envoy-is-timeout-retry}.
 */
public record VirtualHost(
    String name,
    List<String> domains,
    List<Route> routes,
    HeaderMutation requestHeaders,
    HeaderMutation responseHeaders,
    Map<String, Object> filterConfigs,
    boolean includeAttemptCount,
    boolean attemptCountInResponse,
    RequireTls requireTls,
    List<VirtualCluster> virtualClusters,
    Map<String, com.google.protobuf.Struct> metadata,
    boolean includeIsTimeoutRetryHeader) {
  public VirtualHost {
    domains = List.copyOf(domains);
    routes = List.copyOf(routes);
    filterConfigs = Map.copyOf(filterConfigs);
    virtualClusters = List.copyOf(virtualClusters);
    metadata = Map.copyOf(metadata);
  }

  public VirtualHost(
      String name,
      List<String> domains,
      List<Route> routes,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      Map<String, Object> filterConfigs,
      boolean includeAttemptCount,
      boolean attemptCountInResponse,
      RequireTls requireTls) {
    this(
        name,
        domains,
        routes,
        requestHeaders,
        responseHeaders,
        filterConfigs,
        includeAttemptCount,
        attemptCountInResponse,
        requireTls,
        List.of(),
        Map.of(),
        false);
  }

  /** Envoy's {@code VirtualHost.TlsRequirementType}. */
  public enum RequireTls {
    NONE,
    /** Requests from external clients not over TLS get a 301 to https. */
    EXTERNAL_ONLY,
    /** Every request not over TLS gets a 301 to https. */
    ALL
  }

  public VirtualHost(
      String name,
      List<String> domains,
      List<Route> routes,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders,
      Map<String, Object> filterConfigs,
      boolean includeAttemptCount) {
    this(
        name,
        domains,
        routes,
        requestHeaders,
        responseHeaders,
        filterConfigs,
        includeAttemptCount,
        false,
        RequireTls.NONE);
  }

  public VirtualHost(
      String name,
      List<String> domains,
      List<Route> routes,
      HeaderMutation requestHeaders,
      HeaderMutation responseHeaders) {
    this(name, domains, routes, requestHeaders, responseHeaders, Map.of(), false);
  }

  public VirtualHost(String name, List<String> domains, List<Route> routes) {
    this(name, domains, routes, HeaderMutation.NONE, HeaderMutation.NONE);
  }
}
