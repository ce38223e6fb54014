package dev.bowline.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.tracing.HttpTracer;
import dev.bowline.proxy.tracing.SpanReporter;
import dev.bowline.proxy.tracing.TracingConfig;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * A connection manager's {@code tracing} → {@link HttpTracer}: {@code envoy.tracers.opentelemetry}
 * ({@code grpc_service} with {@code envoy_grpc}, or {@code http_service}) and {@code
 * envoy.tracers.zipkin} (JSON v2 only). Another provider, a Google gRPC service or a proto Zipkin
 * endpoint is refused naming the field. Tracing without a provider traces nothing (Envoy would use
 * the bootstrap's tracer; ours has none).
 */
final class TracingParser {
  static final String OTEL_TYPE = "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig";
  static final String ZIPKIN_TYPE = "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig";

  /** What a proxy gives its parser for tracing: its node and its span reporter. */
  record Context(TracingConfig.LocalNode node, SpanReporter reporter, UnaryOperator<String> env) {}

  private TracingParser() {}

  static @Nullable HttpTracer parse(
      HttpConnectionManager.Tracing t, String field, boolean egress, @Nullable Context ctx)
      throws InvalidResourceException {
    if (!t.hasProvider()) {
      return null;
    }
    Any typed = t.getProvider().getTypedConfig();
    String pf = field + ".provider.typed_config";
    TracingConfig.Provider provider;
    try {
      provider =
          switch (typed.getTypeUrl()) {
            case OTEL_TYPE ->
                otel(
                    Anys.unpack(
                        typed, OpenTelemetryConfig.getDescriptor(), OpenTelemetryConfig.parser()),
                    pf);
            case ZIPKIN_TYPE ->
                zipkin(Anys.unpack(typed, ZipkinConfig.getDescriptor(), ZipkinConfig.parser()), pf);
            default ->
                throw new InvalidResourceException(
                    pf,
                    "unsupported tracer "
                        + typed.getTypeUrl()
                        + " (envoy.tracers.opentelemetry and envoy.tracers.zipkin are)");
          };
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(pf, "cannot unpack: " + e.getMessage());
    }
    List<TracingConfig.CustomTag> tags = new ArrayList<>();
    for (int i = 0; i < t.getCustomTagsCount(); i++) {
      tags.add(tag(t.getCustomTags(i), field + ".custom_tags[" + i + "]", ctx));
    }
    int maxPath = t.hasMaxPathTagLength() ? t.getMaxPathTagLength().getValue() : 256;
    TracingConfig config =
        new TracingConfig(
            provider,
            rate(t.hasRandomSampling(), t.getRandomSampling(), field + ".random_sampling"),
            rate(t.hasClientSampling(), t.getClientSampling(), field + ".client_sampling"),
            rate(t.hasOverallSampling(), t.getOverallSampling(), field + ".overall_sampling"),
            tags,
            t.hasSpawnUpstreamSpan() && t.getSpawnUpstreamSpan().getValue(),
            maxPath,
            egress,
            ctx == null ? new TracingConfig.LocalNode("", "", "") : ctx.node());
    if (ctx == null) {
      return null; // a parser without a reporter (config validation only)
    }
    return new HttpTracer(config, ctx.reporter());
  }

  /** A {@code Percent} (0..100) as parts of 10,000; unset is 100%. */
  private static int rate(boolean set, Percent p, String field) throws InvalidResourceException {
    if (!set) {
      return TracingConfig.ALL;
    }
    double v = p.getValue();
    if (!(v >= 0 && v <= 100)) {
      throw new InvalidResourceException(field + ".value", "must be in [0, 100], got " + v);
    }
    return (int) Math.round(v * 100);
  }

  private static TracingConfig.Provider otel(OpenTelemetryConfig o, String field)
      throws InvalidResourceException {
    if (o.hasSampler()) {
      throw new InvalidResourceException(field + ".sampler", "samplers are not supported");
    }
    if (o.hasGrpcService()) {
      var g = o.getGrpcService();
      if (!g.hasEnvoyGrpc()) {
        throw new InvalidResourceException(
            field + ".grpc_service", "only envoy_grpc is supported (google_grpc is not)");
      }
      if (g.getEnvoyGrpc().getClusterName().isEmpty()) {
        throw new InvalidResourceException(
            field + ".grpc_service.envoy_grpc.cluster_name", "must not be empty");
      }
      Map<String, String> md = new LinkedHashMap<>();
      g.getInitialMetadataList().forEach(h -> md.put(h.getKey(), h.getValue()));
      return new TracingConfig.OpenTelemetry(
          g.getEnvoyGrpc().getClusterName(),
          true,
          g.getEnvoyGrpc().getAuthority(),
          "",
          md,
          o.getServiceName());
    }
    if (o.hasHttpService()) {
      var h = o.getHttpService().getHttpUri();
      if (h.getCluster().isEmpty()) {
        throw new InvalidResourceException(
            field + ".http_service.http_uri.cluster", "must not be empty");
      }
      java.net.URI uri;
      try {
        uri = java.net.URI.create(h.getUri().contains("://") ? h.getUri() : "http://" + h.getUri());
      } catch (IllegalArgumentException e) {
        throw new InvalidResourceException(
            field + ".http_service.http_uri.uri", "not a URI: " + h.getUri());
      }
      Map<String, String> headers = new LinkedHashMap<>();
      o.getHttpService()
          .getRequestHeadersToAddList()
          .forEach(x -> headers.put(x.getHeader().getKey(), x.getHeader().getValue()));
      String path =
          uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/v1/traces" : uri.getRawPath();
      return new TracingConfig.OpenTelemetry(
          h.getCluster(),
          false,
          uri.getHost() == null ? "" : uri.getHost(),
          path,
          headers,
          o.getServiceName());
    }
    throw new InvalidResourceException(field, "one of grpc_service, http_service is required");
  }

  private static TracingConfig.Provider zipkin(ZipkinConfig z, String field)
      throws InvalidResourceException {
    if (z.getCollectorCluster().isEmpty()) {
      throw new InvalidResourceException(field + ".collector_cluster", "must not be empty");
    }
    if (z.getCollectorEndpoint().isEmpty()) {
      throw new InvalidResourceException(field + ".collector_endpoint", "must not be empty");
    }
    if (z.getCollectorEndpointVersion() != ZipkinConfig.CollectorEndpointVersion.HTTP_JSON) {
      throw new InvalidResourceException(
          field + ".collector_endpoint_version",
          "only HTTP_JSON is supported, got " + z.getCollectorEndpointVersion());
    }
    return new TracingConfig.Zipkin(
        z.getCollectorCluster(),
        z.getCollectorEndpoint(),
        z.getTraceId128Bit(),
        !z.hasSharedSpanContext() || z.getSharedSpanContext().getValue());
  }

  private static TracingConfig.CustomTag tag(CustomTag t, String field, @Nullable Context ctx)
      throws InvalidResourceException {
    if (t.getTag().isEmpty()) {
      throw new InvalidResourceException(field + ".tag", "must not be empty");
    }
    return switch (t.getTypeCase()) {
      case LITERAL -> new TracingConfig.Literal(t.getTag(), t.getLiteral().getValue());
      case ENVIRONMENT -> {
        String v = ctx == null ? null : ctx.env().apply(t.getEnvironment().getName());
        yield new TracingConfig.Environment(
            t.getTag(), v == null || v.isEmpty() ? t.getEnvironment().getDefaultValue() : v);
      }
      case REQUEST_HEADER -> {
        if (t.getRequestHeader().getName().isEmpty()) {
          throw new InvalidResourceException(field + ".request_header.name", "must not be empty");
        }
        yield new TracingConfig.RequestHeader(
            t.getTag(),
            t.getRequestHeader().getName().toLowerCase(java.util.Locale.ROOT),
            t.getRequestHeader().getDefaultValue());
      }
      case METADATA -> {
        var m = t.getMetadata();
        if (!m.getKind().hasRequest()) {
          throw new InvalidResourceException(
              field + ".metadata.kind", "only request (dynamic) metadata is supported");
        }
        List<String> path = new ArrayList<>();
        for (var seg : m.getMetadataKey().getPathList()) {
          path.add(seg.getKey());
        }
        yield new TracingConfig.Metadata(
            t.getTag(), m.getMetadataKey().getKey(), path, m.getDefaultValue());
      }
      case TYPE_NOT_SET ->
          throw new InvalidResourceException(
              field, "one of literal, environment, request_header, metadata is required");
    };
  }
}
