package dev.bowline.api.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** telemetry.istio.io Telemetry: tracing, metrics and access logging for workloads. */
public record Telemetry(
    @Nullable LabelSelector selector,
    @Nullable PolicyTargetReference targetRef,
    List<PolicyTargetReference> targetRefs,
    List<Tracing> tracing,
    List<Metrics> metrics,
    List<AccessLogging> accessLogging)
    implements Spec {
  public Telemetry {
    targetRefs = Freeze.list(targetRefs);
    tracing = Freeze.list(tracing);
    metrics = Freeze.list(metrics);
    accessLogging = Freeze.list(accessLogging);
  }

  /** A provider from MeshConfig's extensionProviders, by name. */
  public record ProviderRef(@Nullable String name) {}

  /** Client side, server side or both. */
  public enum WorkloadMode {
    CLIENT_AND_SERVER,
    CLIENT,
    SERVER
  }

  /** Tracing settings. */
  public record Tracing(
      @Nullable TracingSelector match,
      List<ProviderRef> providers,
      @Nullable Double randomSamplingPercentage,
      @Nullable Boolean disableSpanReporting,
      Map<String, CustomTag> customTags,
      @Nullable Boolean useRequestIdForTraceSampling,
      @Nullable Boolean enableIstioTags) {
    public Tracing {
      providers = Freeze.list(providers);
      customTags = Freeze.map(customTags);
    }

    /** Which side the settings apply to. */
    public record TracingSelector(@Nullable WorkloadMode mode) {}

    /** A span tag: one of literal, environment or header. */
    public record CustomTag(
        @Nullable Literal literal,
        @Nullable Environment environment,
        @Nullable RequestHeader header) {
      public CustomTag {
        Freeze.atMostOne("literal, environment, header", literal, environment, header);
      }
    }

    /** A fixed value. */
    public record Literal(@Nullable String value) {}

    /** An environment variable of the proxy. */
    public record Environment(@Nullable String name, @Nullable String defaultValue) {}

    /** A request header. */
    public record RequestHeader(@Nullable String name, @Nullable String defaultValue) {}
  }

  /** Metrics settings. */
  public record Metrics(
      List<ProviderRef> providers,
      List<MetricsOverrides> overrides,
      @Nullable Duration reportingInterval) {
    public Metrics {
      providers = Freeze.list(providers);
      overrides = Freeze.list(overrides);
    }
  }

  /** Changes to matching metrics. */
  public record MetricsOverrides(
      @Nullable MetricSelector match,
      @Nullable Boolean disabled,
      Map<String, TagOverride> tagOverrides) {
    public MetricsOverrides {
      tagOverrides = Freeze.map(tagOverrides);
    }

    /** Adds, changes or removes a tag. */
    public record TagOverride(@Nullable Operation operation, @Nullable String value) {

      /** What to do with the tag. */
      public enum Operation {
        UPSERT,
        REMOVE
      }
    }
  }

  /** Selects a metric: one of an Istio metric or a custom metric name. */
  public record MetricSelector(
      @Nullable IstioMetric metric, @Nullable String customMetric, @Nullable WorkloadMode mode) {
    public MetricSelector {
      Freeze.atMostOne("metric, customMetric", metric, customMetric);
    }

    /** Istio's standard metrics. */
    public enum IstioMetric {
      ALL_METRICS,
      REQUEST_COUNT,
      REQUEST_DURATION,
      REQUEST_SIZE,
      RESPONSE_SIZE,
      TCP_OPENED_CONNECTIONS,
      TCP_CLOSED_CONNECTIONS,
      TCP_SENT_BYTES,
      TCP_RECEIVED_BYTES,
      GRPC_REQUEST_MESSAGES,
      GRPC_RESPONSE_MESSAGES
    }
  }

  /** Access logging settings. */
  public record AccessLogging(
      @Nullable LogSelector match,
      List<ProviderRef> providers,
      @Nullable Boolean disabled,
      @Nullable Filter filter) {
    public AccessLogging {
      providers = Freeze.list(providers);
    }

    /** Which side logs. */
    public record LogSelector(@Nullable WorkloadMode mode) {}

    /** A CEL expression that selects the requests to log. */
    public record Filter(@Nullable String expression) {}
  }
}
