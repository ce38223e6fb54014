package dev.bowline.api.mesh;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One of MeshConfig's {@code extensionProviders}: a name and exactly one provider (Istio's oneof),
 * named by AuthorizationPolicy CUSTOM actions and Telemetry resources. Field names are Istio's.
 */
public record ExtensionProvider(
    @Nullable String name,
    @Nullable ExtAuthzHttp envoyExtAuthzHttp,
    @Nullable ExtAuthzGrpc envoyExtAuthzGrpc,
    @Nullable Zipkin zipkin,
    @Nullable Lightstep lightstep,
    @Nullable Datadog datadog,
    @Nullable Stackdriver stackdriver,
    @Nullable OpenCensusAgent opencensus,
    @Nullable SkyWalking skywalking,
    @Nullable OpenTelemetryTracing opentelemetry,
    @Nullable Prometheus prometheus,
    @Nullable FileAccessLog envoyFileAccessLog,
    @Nullable HttpGrpcLog envoyHttpAls,
    @Nullable TcpGrpcLog envoyTcpAls,
    @Nullable OtelLog envoyOtelAls) {

  /** The providers that are set (exactly one in a valid provider), by their field name. */
  public Map<String, Object> set() {
    var all = new java.util.LinkedHashMap<String, Object>();
    put(all, "envoyExtAuthzHttp", envoyExtAuthzHttp);
    put(all, "envoyExtAuthzGrpc", envoyExtAuthzGrpc);
    put(all, "zipkin", zipkin);
    put(all, "lightstep", lightstep);
    put(all, "datadog", datadog);
    put(all, "stackdriver", stackdriver);
    put(all, "opencensus", opencensus);
    put(all, "skywalking", skywalking);
    put(all, "opentelemetry", opentelemetry);
    put(all, "prometheus", prometheus);
    put(all, "envoyFileAccessLog", envoyFileAccessLog);
    put(all, "envoyHttpAls", envoyHttpAls);
    put(all, "envoyTcpAls", envoyTcpAls);
    put(all, "envoyOtelAls", envoyOtelAls);
    return java.util.Collections.unmodifiableMap(all);
  }

  private static void put(Map<String, Object> m, String k, @Nullable Object v) {
    if (v != null) {
      m.put(k, v);
    }
  }

  /** A provider reached at {@code service:port} (a host name, optionally {@code ns/host}). */
  public interface Remote {
    /** The provider's service host. */
    @Nullable String service();

    /** The provider's port. */
    @Nullable Integer port();
  }

  /** Request body sent along with an ext_authz check. */
  public record BodyInCheck(
      @Nullable Integer maxRequestBytes,
      @Nullable Boolean allowPartialMessage,
      @Nullable Boolean packAsBytes) {}

  /** External authorization over HTTP. */
  public record ExtAuthzHttp(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable Duration timeout,
      @Nullable String pathPrefix,
      @Nullable Boolean failOpen,
      @Nullable String statusOnError,
      List<String> includeHeadersInCheck,
      List<String> includeRequestHeadersInCheck,
      Map<String, String> includeAdditionalHeadersInCheck,
      @Nullable BodyInCheck includeRequestBodyInCheck,
      List<String> headersToUpstreamOnAllow,
      List<String> headersToDownstreamOnDeny,
      List<String> headersToDownstreamOnAllow)
      implements Remote {
    public ExtAuthzHttp {
      includeHeadersInCheck = list(includeHeadersInCheck);
      includeRequestHeadersInCheck = list(includeRequestHeadersInCheck);
      includeAdditionalHeadersInCheck = map(includeAdditionalHeadersInCheck);
      headersToUpstreamOnAllow = list(headersToUpstreamOnAllow);
      headersToDownstreamOnDeny = list(headersToDownstreamOnDeny);
      headersToDownstreamOnAllow = list(headersToDownstreamOnAllow);
    }
  }

  /** External authorization over gRPC. */
  public record ExtAuthzGrpc(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable Duration timeout,
      @Nullable Boolean failOpen,
      @Nullable String statusOnError,
      @Nullable BodyInCheck includeRequestBodyInCheck)
      implements Remote {}

  /** Zipkin tracing. */
  public record Zipkin(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable Integer maxTagLength,
      @Nullable Boolean enable64bitTraceId,
      @Nullable String path,
      @Nullable String traceContextOption,
      @Nullable Duration timeout,
      List<Header> headers)
      implements Remote {
    public Zipkin {
      headers = list(headers);
    }
  }

  /** Lightstep tracing. */
  public record Lightstep(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable String accessToken,
      @Nullable Integer maxTagLength)
      implements Remote {}

  /** Datadog tracing. */
  public record Datadog(
      @Nullable String service, @Nullable Integer port, @Nullable Integer maxTagLength)
      implements Remote {}

  /** SkyWalking tracing. */
  public record SkyWalking(
      @Nullable String service, @Nullable Integer port, @Nullable String accessToken)
      implements Remote {}

  /** OpenCensus agent tracing. */
  public record OpenCensusAgent(
      @Nullable String service,
      @Nullable Integer port,
      List<String> context,
      @Nullable Integer maxTagLength)
      implements Remote {
    public OpenCensusAgent {
      context = list(context);
    }
  }

  /** Stackdriver (Google Cloud) tracing, metrics and logging. */
  public record Stackdriver(
      @Nullable Boolean debug,
      @Nullable Long maxNumberOfAttributes,
      @Nullable Long maxNumberOfAnnotations,
      @Nullable Long maxNumberOfMessageEvents,
      @Nullable Integer maxTagLength,
      @Nullable Logging logging) {
    /** Extra labels on Stackdriver log entries. */
    public record Logging(Map<String, String> labels) {
      public Logging {
        labels = map(labels);
      }
    }
  }

  /** An HTTP header added to exports. */
  public record Header(@Nullable String name, @Nullable String value) {}

  /** OpenTelemetry tracing (OTLP over gRPC, or over HTTP when {@code http} is set). */
  public record OpenTelemetryTracing(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable Integer maxTagLength,
      @Nullable Http http,
      @Nullable Grpc grpc,
      @Nullable ResourceDetectors resourceDetectors,
      @Nullable DynatraceSampler dynatraceSampler)
      implements Remote {

    /** Dynatrace's sampler, which asks its API for the sampling budget. */
    public record DynatraceSampler(
        @Nullable String tenant,
        @Nullable Integer clusterId,
        @Nullable Integer rootSpansPerMinute,
        @Nullable DynatraceApi httpService) {

      /** Where the Dynatrace API is. */
      public record DynatraceApi(
          @Nullable String service, @Nullable Integer port, @Nullable Http http) {}
    }

    /** OTLP over HTTP. */
    public record Http(@Nullable String path, @Nullable Duration timeout, List<Header> headers) {
      public Http {
        headers = list(headers);
      }
    }

    /** OTLP over gRPC. */
    public record Grpc(@Nullable Duration timeout, List<Header> initialMetadata) {
      public Grpc {
        initialMetadata = list(initialMetadata);
      }
    }

    /** Resource detectors that add attributes to spans. */
    public record ResourceDetectors(@Nullable Detector environment, @Nullable Detector dynatrace) {
      /** A detector is switched on by its presence; it has no settings. */
      public record Detector() {}
    }
  }

  /** Prometheus metrics (no settings). */
  public record Prometheus() {}

  /** A log format: plain text or JSON labels (one of them). */
  public record LogFormat(@Nullable String text, Map<String, Object> labels) {
    public LogFormat {
      labels = labels == null ? Map.of() : Map.copyOf(labels);
    }
  }

  /** Access log to a file. */
  public record FileAccessLog(@Nullable String path, @Nullable LogFormat logFormat) {}

  /** Envoy's HTTP gRPC access log service. */
  public record HttpGrpcLog(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable String logName,
      List<String> filterStateObjectsToLog,
      List<String> additionalRequestHeadersToLog,
      List<String> additionalResponseHeadersToLog,
      List<String> additionalResponseTrailersToLog)
      implements Remote {
    public HttpGrpcLog {
      filterStateObjectsToLog = list(filterStateObjectsToLog);
      additionalRequestHeadersToLog = list(additionalRequestHeadersToLog);
      additionalResponseHeadersToLog = list(additionalResponseHeadersToLog);
      additionalResponseTrailersToLog = list(additionalResponseTrailersToLog);
    }
  }

  /** Envoy's TCP gRPC access log service. */
  public record TcpGrpcLog(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable String logName,
      List<String> filterStateObjectsToLog)
      implements Remote {
    public TcpGrpcLog {
      filterStateObjectsToLog = list(filterStateObjectsToLog);
    }
  }

  /** OpenTelemetry access log service. */
  public record OtelLog(
      @Nullable String service,
      @Nullable Integer port,
      @Nullable String logName,
      @Nullable LogFormat logFormat)
      implements Remote {}

  static <T> List<T> list(@Nullable List<T> l) {
    return l == null ? List.of() : List.copyOf(l);
  }

  static <V> Map<String, V> map(@Nullable Map<String, V> m) {
    return m == null
        ? Map.of()
        : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(m));
  }
}
