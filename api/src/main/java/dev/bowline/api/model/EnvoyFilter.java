package dev.bowline.api.model;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** networking.istio.io EnvoyFilter (v1alpha3): patches to the generated Envoy configuration. */
public record EnvoyFilter(
    @Nullable WorkloadSelector workloadSelector,
    List<PolicyTargetReference> targetRefs,
    List<EnvoyConfigObjectPatch> configPatches,
    @Nullable Integer priority)
    implements Spec {
  public EnvoyFilter {
    targetRefs = Freeze.list(targetRefs);
    configPatches = Freeze.list(configPatches);
  }

  /** Where a patch applies, what it matches and the patch itself. */
  public record EnvoyConfigObjectPatch(
      @Nullable ApplyTo applyTo, @Nullable EnvoyConfigObjectMatch match, @Nullable Patch patch) {}

  /** The kind of Envoy object a patch applies to. */
  public enum ApplyTo {
    INVALID,
    LISTENER,
    FILTER_CHAIN,
    NETWORK_FILTER,
    HTTP_FILTER,
    ROUTE_CONFIGURATION,
    VIRTUAL_HOST,
    HTTP_ROUTE,
    CLUSTER,
    EXTENSION_CONFIG,
    BOOTSTRAP,
    LISTENER_FILTER
  }

  /** Traffic direction a patch applies to. */
  public enum PatchContext {
    ANY,
    SIDECAR_INBOUND,
    SIDECAR_OUTBOUND,
    GATEWAY
  }

  /** Which object to patch: one of listener, routeConfiguration or cluster. */
  public record EnvoyConfigObjectMatch(
      @Nullable PatchContext context,
      @Nullable ProxyMatch proxy,
      @Nullable ListenerMatch listener,
      @Nullable RouteConfigurationMatch routeConfiguration,
      @Nullable ClusterMatch cluster) {
    public EnvoyConfigObjectMatch {
      Freeze.atMostOne(
          "listener, routeConfiguration, cluster", listener, routeConfiguration, cluster);
    }
  }

  /** Proxy version (regex) and metadata to match. */
  public record ProxyMatch(@Nullable String proxyVersion, Map<String, String> metadata) {
    public ProxyMatch {
      metadata = Freeze.map(metadata);
    }
  }

  /** Listener match. */
  public record ListenerMatch(
      @Nullable Integer portNumber,
      @Nullable String portName,
      @Nullable FilterChainMatch filterChain,
      @Nullable String listenerFilter,
      @Nullable String name) {

    /** Filter chain match. */
    public record FilterChainMatch(
        @Nullable String name,
        @Nullable String sni,
        @Nullable String transportProtocol,
        @Nullable String applicationProtocols,
        @Nullable FilterMatch filter,
        @Nullable Integer destinationPort) {}

    /** Network filter match. */
    public record FilterMatch(@Nullable String name, @Nullable SubFilterMatch subFilter) {}

    /** HTTP filter match inside a network filter. */
    public record SubFilterMatch(@Nullable String name) {}
  }

  /** Route configuration match. */
  public record RouteConfigurationMatch(
      @Nullable Integer portNumber,
      @Nullable String portName,
      @Nullable String gateway,
      @Nullable VirtualHostMatch vhost,
      @Nullable String name) {

    /** Virtual host match. */
    public record VirtualHostMatch(
        @Nullable String name, @Nullable String domainName, @Nullable RouteMatch route) {}

    /** Route match. */
    public record RouteMatch(@Nullable String name, @Nullable Action action) {

      /** Route action. */
      public enum Action {
        ANY,
        ROUTE,
        REDIRECT,
        DIRECT_RESPONSE
      }
    }
  }

  /** Cluster match. */
  public record ClusterMatch(
      @Nullable Integer portNumber,
      @Nullable String service,
      @Nullable String subset,
      @Nullable String name) {}

  /** The patch: an operation and an Envoy config fragment. */
  public record Patch(
      @Nullable Operation operation, Map<String, Object> value, @Nullable FilterClass filterClass) {
    public Patch {
      value = Freeze.struct(value);
    }

    /** Patch operation. */
    public enum Operation {
      INVALID,
      MERGE,
      ADD,
      REMOVE,
      INSERT_BEFORE,
      INSERT_AFTER,
      INSERT_FIRST,
      REPLACE
    }

    /** Where an added filter goes in the chain. */
    public enum FilterClass {
      UNSPECIFIED,
      AUTHN,
      AUTHZ,
      STATS
    }
  }
}
