package dev.bowline.proxy.http.filter.extauthz;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.StringMatch;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.rbac.RbacProtos;
import dev.bowline.proxy.stats.Stats;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.CheckSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.HttpService;
import io.envoyproxy.envoy.type.matcher.v3.ListStringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Factory of {@code envoy.filters.http.ext_authz}. */
public final class ExtAuthzFactory implements HttpFilterFactory<ExtAuthzConfig> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz";

  private final Stats stats;

  /** A factory whose counters ({@code http.<stat_prefix>.ext_authz.*}) are in {@code stats}. */
  public ExtAuthzFactory(Stats stats) {
    this.stats = stats;
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return ExtAuthz.getDescriptor();
  }

  @Override
  public ExtAuthzConfig parse(Any typedConfig) throws InvalidProtocolBufferException {
    return parse(typedConfig, FilterContext.NONE);
  }

  @Override
  public ExtAuthzConfig parse(Any typedConfig, FilterContext context)
      throws InvalidProtocolBufferException {
    return config(
        Anys.unpack(typedConfig, ExtAuthz.getDescriptor(), ExtAuthz.parser()),
        context.statPrefix());
  }

  ExtAuthzConfig config(ExtAuthz p, String scope) {
    ExtAuthzConfig.Service service =
        switch (p.getServicesCase()) {
          case HTTP_SERVICE -> http(p.getHttpService());
          case GRPC_SERVICE ->
              grpc(p.getGrpcService(), matchers(p.getAllowedHeaders(), "allowed_headers"));
          case SERVICES_NOT_SET ->
              throw new IllegalArgumentException(
                  "services: one of http_service, grpc_service is required");
        };
    Optional<ExtAuthzConfig.WithBody> withBody =
        p.hasWithRequestBody()
            ? Optional.of(withBody(p.getWithRequestBody(), "with_request_body"))
            : Optional.empty();
    int status = 403;
    if (p.hasStatusOnError() && p.getStatusOnError().getCodeValue() != 0) {
      status = p.getStatusOnError().getCodeValue();
      if (status < 200 || status > 599) {
        throw new IllegalArgumentException("status_on_error.code: not an HTTP status: " + status);
      }
    }
    Optional<ExtAuthzConfig.MetadataMatch> enabled =
        p.hasFilterEnabledMetadata()
            ? Optional.of(metadata(p.getFilterEnabledMetadata(), "filter_enabled_metadata"))
            : Optional.empty();
    if (p.hasFilterEnabled() || p.hasDenyAtDisable()) {
      throw new IllegalArgumentException("filter_enabled, deny_at_disable: not supported");
    }
    return new ExtAuthzConfig(
        service,
        p.getFailureModeAllow(),
        status,
        enabled,
        ExtAuthzStats.create(stats, scope),
        withBody);
  }

  private static ExtAuthzConfig.WithBody withBody(BufferSettings b, String at) {
    if (b.getMaxRequestBytes() == 0) {
      throw new IllegalArgumentException(at + ".max_request_bytes: must be greater than 0, got 0");
    }
    if (b.getMaxRequestBytes() < 0) {
      throw new IllegalArgumentException(
          at
              + ".max_request_bytes: at most "
              + Integer.MAX_VALUE
              + " is supported, got "
              + Integer.toUnsignedString(b.getMaxRequestBytes()));
    }
    return new ExtAuthzConfig.WithBody(
        b.getMaxRequestBytes(), b.getAllowPartialMessage(), b.getPackAsBytes());
  }

  @Override
  public List<com.google.protobuf.Descriptors.Descriptor> perRouteTypes() {
    return List.of(ExtAuthzPerRoute.getDescriptor());
  }

  @Override
  public ExtAuthzConfig.PerRoute parsePerRoute(Any typedConfig)
      throws InvalidProtocolBufferException {
    ExtAuthzPerRoute p =
        Anys.unpack(typedConfig, ExtAuthzPerRoute.getDescriptor(), ExtAuthzPerRoute.parser());
    return switch (p.getOverrideCase()) {
      case DISABLED -> {
        if (!p.getDisabled()) {
          throw new IllegalArgumentException("disabled: must be true when set");
        }
        yield new ExtAuthzConfig.PerRoute.Disabled();
      }
      case CHECK_SETTINGS -> {
        CheckSettings c = p.getCheckSettings();
        if (c.getDisableRequestBodyBuffering() && c.hasWithRequestBody()) {
          throw new IllegalArgumentException(
              "check_settings: disable_request_body_buffering and with_request_body are exclusive");
        }
        yield new ExtAuthzConfig.PerRoute.Check(
            c.getContextExtensionsMap(),
            c.getDisableRequestBodyBuffering(),
            c.hasWithRequestBody()
                ? Optional.of(withBody(c.getWithRequestBody(), "check_settings.with_request_body"))
                : Optional.empty());
      }
      case OVERRIDE_NOT_SET ->
          throw new IllegalArgumentException(
              "override: one of disabled, check_settings is required");
    };
  }

  private static ExtAuthzConfig.HttpCheck http(HttpService h) {
    if (!h.hasServerUri() || h.getServerUri().getCluster().isEmpty()) {
      throw new IllegalArgumentException("http_service.server_uri.cluster: is required");
    }
    if (!h.getPathPrefix().isEmpty() && !h.getPathPrefix().startsWith("/")) {
      throw new IllegalArgumentException(
          "http_service.path_prefix: must start with /: " + h.getPathPrefix());
    }
    var req = h.getAuthorizationRequest();
    List<Map.Entry<String, String>> add = new ArrayList<>();
    for (int i = 0; i < req.getHeadersToAddCount(); i++) {
      var hv = req.getHeadersToAdd(i);
      if (hv.getKey().isEmpty()) {
        throw new IllegalArgumentException(
            "http_service.authorization_request.headers_to_add[" + i + "].key: must not be empty");
      }
      add.add(Map.entry(hv.getKey().toLowerCase(java.util.Locale.ROOT), hv.getValue()));
    }
    var resp = h.getAuthorizationResponse();
    String at = "http_service.authorization_response.";
    return new ExtAuthzConfig.HttpCheck(
        h.getServerUri().getCluster(),
        duration(h.getServerUri().getTimeout()),
        h.getPathPrefix(),
        matchers(req.getAllowedHeaders(), "http_service.authorization_request.allowed_headers"),
        add,
        matchers(resp.getAllowedUpstreamHeaders(), at + "allowed_upstream_headers"),
        resp.hasAllowedClientHeaders()
            ? Optional.of(matchers(resp.getAllowedClientHeaders(), at + "allowed_client_headers"))
            : Optional.empty(),
        matchers(
            resp.getAllowedClientHeadersOnSuccess(), at + "allowed_client_headers_on_success"));
  }

  private static ExtAuthzConfig.GrpcCheck grpc(GrpcService g, List<StringMatch> allowed) {
    if (!g.hasEnvoyGrpc()) {
      throw new IllegalArgumentException(
          "grpc_service.google_grpc: not supported (use envoy_grpc)");
    }
    String cluster = g.getEnvoyGrpc().getClusterName();
    if (cluster.isEmpty()) {
      throw new IllegalArgumentException("grpc_service.envoy_grpc.cluster_name: is required");
    }
    String authority = g.getEnvoyGrpc().getAuthority();
    return new ExtAuthzConfig.GrpcCheck(
        cluster,
        authority.isEmpty() ? cluster : authority,
        g.hasTimeout() ? duration(g.getTimeout()) : Duration.ofMillis(200), // Envoy's default
        allowed);
  }

  private static List<StringMatch> matchers(ListStringMatcher l, String at) {
    List<StringMatch> out = new ArrayList<>();
    for (int i = 0; i < l.getPatternsCount(); i++) {
      out.add(RbacProtos.string(l.getPatterns(i), at + ".patterns[" + i + "]"));
    }
    return out;
  }

  static ExtAuthzConfig.MetadataMatch metadata(MetadataMatcher m, String at) {
    if (m.getFilter().isEmpty()) {
      throw new IllegalArgumentException(at + ".filter: must not be empty");
    }
    List<String> path = new ArrayList<>();
    for (int i = 0; i < m.getPathCount(); i++) {
      if (m.getPath(i).getKey().isEmpty()) {
        throw new IllegalArgumentException(at + ".path[" + i + "].key: must not be empty");
      }
      path.add(m.getPath(i).getKey());
    }
    if (path.isEmpty()) {
      throw new IllegalArgumentException(at + ".path: at least one key is required");
    }
    if (!m.hasValue()) {
      throw new IllegalArgumentException(at + ".value: is required");
    }
    return new ExtAuthzConfig.MetadataMatch(
        m.getFilter(), path, RbacProtos.value(m.getValue(), at + ".value"), m.getInvert());
  }

  private static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  @Override
  public HttpFilter create(ExtAuthzConfig config) {
    throw new UnsupportedOperationException("the ext_authz filter needs its stream");
  }

  @Override
  public HttpFilter create(ExtAuthzConfig config, StreamInfo stream) {
    return new ExtAuthzFilter(config, stream);
  }
}
