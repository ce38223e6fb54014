package dev.bowline.proxy.tracing;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A connection manager's {@code tracing}: the provider spans go to, Envoy's three sampling rates,
 * custom tags and the few span options. Rates are per 10,000 requests, as Envoy evaluates them (its
 * {@code Percent} becomes a {@code FractionalPercent} of {@code TEN_THOUSAND}).
 *
 * @param provider where spans go and how context is propagated
 * @param randomSampling {@code random_sampling}: requests sampled by their x-request-id (of 10,000)
 * @param clientSampling {@code client_sampling}: requests with {@code x-client-trace-id} traced
 * @param overallSampling {@code overall_sampling}: cap applied after the other decisions
 * @param customTags {@code custom_tags}, in order
 * @param spawnUpstreamSpan {@code spawn_upstream_span}: a child client span per upstream request
 * @param maxPathTagLength {@code max_path_tag_length} (Envoy's default 256)
 * @param egress whether spans are client spans (listener {@code traffic_direction: OUTBOUND})
 * @param local what the proxy says about itself on its spans
 */
public record TracingConfig(
    Provider provider,
    int randomSampling,
    int clientSampling,
    int overallSampling,
    List<CustomTag> customTags,
    boolean spawnUpstreamSpan,
    int maxPathTagLength,
    boolean egress,
    LocalNode local) {
  /** All of {@code TEN_THOUSAND}: Envoy's default for each rate. */
  public static final int ALL = 10_000;

  public TracingConfig {
    Objects.requireNonNull(provider, "provider");
    customTags = List.copyOf(customTags);
    for (int rate : new int[] {randomSampling, clientSampling, overallSampling}) {
      if (rate < 0 || rate > ALL) {
        throw new IllegalArgumentException("sampling rate " + rate + " not in [0, 10000]");
      }
    }
  }

  /**
   * The proxy node on spans: the {@code node_id} and {@code zone} tags, and the service name
   * (Envoy: the node's cluster, {@code --service-cluster}; Istio sets it to {@code app.namespace}).
   */
  public record LocalNode(String id, String cluster, String zone) {}

  /** Where a connection manager's spans go. */
  public sealed interface Provider permits OpenTelemetry, Zipkin {
    /** The collector cluster spans are sent to. */
    String cluster();
  }

  /**
   * {@code envoy.tracers.opentelemetry}: OTLP, over gRPC to {@code cluster} ({@code grpc_service}
   * with {@code envoy_grpc}) or over HTTP ({@code http_service}); W3C trace context.
   *
   * @param grpc whether OTLP/gRPC (else OTLP/HTTP protobuf POSTs to {@code path})
   * @param authority gRPC {@code :authority} or HTTP {@code host}; empty for the cluster name
   * @param path OTLP/HTTP path ({@code /v1/traces})
   * @param headers extra request headers (gRPC {@code initial_metadata}, HTTP {@code
   *     request_headers_to_add})
   * @param serviceName {@code service_name}; empty for the node's cluster
   */
  public record OpenTelemetry(
      String cluster,
      boolean grpc,
      String authority,
      String path,
      Map<String, String> headers,
      String serviceName)
      implements Provider {
    public OpenTelemetry {
      headers = Map.copyOf(headers);
    }
  }

  /**
   * {@code envoy.tracers.zipkin}: JSON v2 spans POSTed to {@code endpoint} of {@code cluster}; B3
   * propagation.
   *
   * @param traceId128 {@code trace_id_128bit}: new traces get 128-bit ids
   * @param sharedSpanContext {@code shared_span_context}: a server span reuses its caller's span id
   */
  public record Zipkin(
      String cluster, String endpoint, boolean traceId128, boolean sharedSpanContext)
      implements Provider {}

  /** One {@code custom_tags} entry. */
  public sealed interface CustomTag permits Literal, RequestHeader, Environment, Metadata {
    /** The tag's name. */
    String tag();
  }

  /** A fixed value. */
  public record Literal(String tag, String value) implements CustomTag {}

  /** A request header's value, else {@code defaultValue} (no tag when both are empty). */
  public record RequestHeader(String tag, String name, String defaultValue) implements CustomTag {}

  /**
   * An environment variable's value, read once when the config is built (as Envoy does), else
   * {@code defaultValue}.
   */
  public record Environment(String tag, String value) implements CustomTag {}

  /**
   * A dynamic-metadata value ({@code metadata} with {@code kind.request}): filter {@code filter},
   * field path {@code path}; {@code defaultValue} when absent.
   */
  public record Metadata(String tag, String filter, List<String> path, String defaultValue)
      implements CustomTag {
    public Metadata {
      path = List.copyOf(path);
    }
  }
}
