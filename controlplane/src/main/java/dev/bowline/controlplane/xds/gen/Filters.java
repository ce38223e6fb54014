package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.mesh.MeshTypes.PathNormalization.Normalization;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The network filters listeners are made of, with Envoy's filter names. */
final class Filters {
  static final String HCM = "envoy.filters.network.http_connection_manager";
  static final String TCP_PROXY = "envoy.filters.network.tcp_proxy";
  static final String ROUTER = "envoy.filters.http.router";
  static final String FAULT = "envoy.filters.http.fault";
  static final String CORS = "envoy.filters.http.cors";

  private Filters() {}

  static HttpFilter router() {
    return HttpFilter.newBuilder()
        .setName(ROUTER)
        .setTypedConfig(Any.pack(Router.getDefaultInstance()))
        .build();
  }

  /** An HTTP connection manager taking routes {@code routeName} over ADS. */
  static Filter hcmRds(String statPrefix, String routeName) {
    return hcmRds(statPrefix, routeName, List.of(), List.of());
  }

  /**
   * An HTTP connection manager taking routes over ADS, with {@code filters} before the router and
   * access logs {@code logs}.
   */
  static Filter hcmRds(
      String statPrefix, String routeName, List<HttpFilter> filters, List<AccessLog> logs) {
    return hcmRds(statPrefix, routeName, filters, logs, null, MeshConfig.defaults());
  }

  /**
   * As {@link #hcmRds(String, String, List, List)}, with {@code tracing} when not null and the
   * mesh's path normalization.
   */
  static Filter hcmRds(
      String statPrefix,
      String routeName,
      List<HttpFilter> filters,
      List<AccessLog> logs,
      HttpConnectionManager.@Nullable Tracing tracing,
      MeshConfig mesh) {
    return hcm(paths(traced(rds(statPrefix, routeName, logs), tracing), mesh), outbound(filters));
  }

  /**
   * {@code filters} then istiod's {@code istio.alpn}, which every connection manager but the
   * sidecar's inbound ones gets (before fault and CORS): HTTP over mTLS then offers {@code
   * istio-http/1.1} or {@code istio-h2} upstream.
   */
  private static List<HttpFilter> outbound(List<HttpFilter> filters) {
    List<HttpFilter> out = new java.util.ArrayList<>(filters.size() + 1);
    out.addAll(filters);
    out.add(AlpnFilter.filter());
    return out;
  }

  /**
   * istiod's path normalization on every connection manager, from MeshConfig {@code
   * pathNormalization} ({@code BASE} when unset): NONE turns it off; BASE is {@code
   * normalize_path}; MERGE_SLASHES adds {@code merge_slashes}; DECODE_AND_MERGE_SLASHES also
   * forwards {@code %2F} and {@code %5C} unescaped.
   */
  static HttpConnectionManager.Builder paths(HttpConnectionManager.Builder hcm, MeshConfig mesh) {
    var pn = mesh.pathNormalization();
    var level =
        pn == null || pn.normalization() == null ? Normalization.DEFAULT : pn.normalization();
    switch (level) {
      case NONE -> hcm.setNormalizePath(com.google.protobuf.BoolValue.of(false));
      case DEFAULT, BASE -> hcm.setNormalizePath(com.google.protobuf.BoolValue.of(true));
      case MERGE_SLASHES ->
          hcm.setNormalizePath(com.google.protobuf.BoolValue.of(true)).setMergeSlashes(true);
      case DECODE_AND_MERGE_SLASHES ->
          hcm.setNormalizePath(com.google.protobuf.BoolValue.of(true))
              .setMergeSlashes(true)
              .setPathWithEscapedSlashesAction(
                  HttpConnectionManager.PathWithEscapedSlashesAction.UNESCAPE_AND_FORWARD);
    }
    return hcm;
  }

  /** A connection manager builder taking routes {@code routeName} over ADS, with {@code logs}. */
  private static HttpConnectionManager.Builder rds(
      String statPrefix, String routeName, List<AccessLog> logs) {
    return HttpConnectionManager.newBuilder()
        .setStatPrefix(statPrefix)
        .setRds(
            Rds.newBuilder().setConfigSource(ClusterGenerator.ADS).setRouteConfigName(routeName))
        .addAllAccessLog(logs);
  }

  private static HttpConnectionManager.Builder traced(
      HttpConnectionManager.Builder hcm, HttpConnectionManager.@Nullable Tracing tracing) {
    return tracing == null ? hcm : hcm.setTracing(tracing);
  }

  /** An HTTP connection manager with an inline route configuration. */
  static Filter hcmInline(String statPrefix, RouteConfiguration routes) {
    return hcmInline(statPrefix, routes, List.of(), List.of());
  }

  /**
   * An HTTP connection manager with inline routes, {@code filters} and access logs {@code logs}.
   */
  static Filter hcmInline(
      String statPrefix,
      RouteConfiguration routes,
      List<HttpFilter> filters,
      List<AccessLog> logs) {
    return hcmInline(statPrefix, routes, filters, logs, null, MeshConfig.defaults());
  }

  /**
   * As {@link #hcmInline(String, RouteConfiguration, List, List)}, with {@code tracing}: istiod's
   * inbound connection manager, which also tells the app who called in {@code
   * x-forwarded-client-cert} (APPEND_FORWARD with the subject, URI and DNS SANs of the client).
   */
  static Filter hcmInline(
      String statPrefix,
      RouteConfiguration routes,
      List<HttpFilter> filters,
      List<AccessLog> logs,
      HttpConnectionManager.@Nullable Tracing tracing,
      MeshConfig mesh) {
    return hcm(
        traced(
            paths(HttpConnectionManager.newBuilder(), mesh)
                .setStatPrefix(statPrefix)
                .setRouteConfig(routes)
                .addAllAccessLog(logs)
                .setForwardClientCertDetails(
                    HttpConnectionManager.ForwardClientCertDetails.APPEND_FORWARD)
                .setSetCurrentClientCertDetails(
                    HttpConnectionManager.SetCurrentClientCertDetails.newBuilder()
                        .setSubject(com.google.protobuf.BoolValue.of(true))
                        .setDns(true)
                        .setUri(true)),
            tracing),
        filters);
  }

  /**
   * istiod's gateway connection manager: routes over ADS, {@code use_remote_address} with {@code
   * xff_num_trusted_hops} from MeshConfig's {@code
   * defaultConfig.gatewayTopology.numTrustedProxies}, and {@code x-forwarded-client-cert} as
   * MeshConfig's {@code defaultConfig.gatewayTopology.forwardClientCertDetails} says (Istio's
   * default SANITIZE_SET), with the client certificate's subject, PEM, URI and DNS SANs.
   */
  static Filter gatewayHcm(
      String statPrefix,
      String routeName,
      List<HttpFilter> filters,
      List<AccessLog> logs,
      HttpConnectionManager.@Nullable Tracing tracing,
      MeshConfig mesh) {
    var topology = mesh.defaultConfig() == null ? null : mesh.defaultConfig().gatewayTopology();
    var fwd = topology == null ? null : topology.forwardClientCertDetails();
    HttpConnectionManager.ForwardClientCertDetails mode =
        switch (fwd == null
            ? dev.bowline.api.mesh.MeshTypes.ForwardClientCertDetails.UNDEFINED
            : fwd) {
          case UNDEFINED, SANITIZE_SET ->
              HttpConnectionManager.ForwardClientCertDetails.SANITIZE_SET;
          case SANITIZE -> HttpConnectionManager.ForwardClientCertDetails.SANITIZE;
          case FORWARD_ONLY -> HttpConnectionManager.ForwardClientCertDetails.FORWARD_ONLY;
          case APPEND_FORWARD -> HttpConnectionManager.ForwardClientCertDetails.APPEND_FORWARD;
          case ALWAYS_FORWARD_ONLY ->
              HttpConnectionManager.ForwardClientCertDetails.ALWAYS_FORWARD_ONLY;
        };
    Integer hops = topology == null ? null : topology.numTrustedProxies();
    return hcm(
        traced(
            paths(rds(statPrefix, routeName, logs), mesh)
                // istiod's gateway options: the edge of the mesh uses the peer's address, and
                // trusts as many x-forwarded-for hops as gatewayTopology.numTrustedProxies says
                .setUseRemoteAddress(com.google.protobuf.BoolValue.of(true))
                .setXffNumTrustedHops(hops == null ? 0 : hops)
                .setForwardClientCertDetails(mode)
                .setSetCurrentClientCertDetails(
                    HttpConnectionManager.SetCurrentClientCertDetails.newBuilder()
                        .setSubject(com.google.protobuf.BoolValue.of(true))
                        .setCert(true)
                        .setDns(true)
                        .setUri(true)),
            tracing),
        outbound(filters));
  }

  /**
   * istiod's HTTP filters that the routes' {@code typed_per_filter_config} needs, before the
   * router: the fault and CORS filters, both with empty configs (they act only per route).
   */
  static List<HttpFilter> policyFilters() {
    return List.of(
        HttpFilter.newBuilder()
            .setName(FAULT)
            .setTypedConfig(Any.pack(HTTPFault.getDefaultInstance()))
            .build(),
        HttpFilter.newBuilder()
            .setName(CORS)
            .setTypedConfig(Any.pack(Cors.getDefaultInstance()))
            .build());
  }

  /**
   * The HCM with {@code filters} (telemetry: metadata exchange, stats) first, so that they see
   * every response, fault aborts included; then the policy filters and the router.
   */
  private static Filter hcm(HttpConnectionManager.Builder hcm, List<HttpFilter> filters) {
    return Filter.newBuilder()
        .setName(HCM)
        .setTypedConfig(
            Any.pack(
                hcm.addAllHttpFilters(filters)
                    .addAllHttpFilters(policyFilters())
                    .addHttpFilters(router())
                    .build()))
        .build();
  }

  /** A TCP proxy to {@code cluster}. */
  static Filter tcpProxy(String statPrefix, String cluster) {
    return Filter.newBuilder()
        .setName(TCP_PROXY)
        .setTypedConfig(
            Any.pack(TcpProxy.newBuilder().setStatPrefix(statPrefix).setCluster(cluster).build()))
        .build();
  }
}
