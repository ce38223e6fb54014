package dev.bowline.api.mesh;

import dev.bowline.api.model.ClientTLSSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** MeshConfig sections besides extension providers: tracing, CA, certificates, selectors. */
public final class MeshTypes {
  private MeshTypes() {}

  /** {@code defaultConfig.tracing}: one legacy tracer plus sampling and custom tags. */
  public record Tracing(
      @Nullable Address zipkin,
      @Nullable Lightstep lightstep,
      @Nullable Address datadog,
      @Nullable Stackdriver stackdriver,
      @Nullable OpenCensusAgent openCensusAgent,
      Map<String, CustomTag> customTags,
      @Nullable Integer maxPathTagLength,
      @Nullable Double sampling,
      @Nullable ClientTLSSettings tlsSettings) {
    public Tracing {
      customTags = ExtensionProvider.map(customTags);
    }

    /** The tracers that are set, by field name (at most one is valid). */
    public List<String> tracers() {
      var names = new java.util.ArrayList<String>();
      if (zipkin != null) names.add("zipkin");
      if (lightstep != null) names.add("lightstep");
      if (datadog != null) names.add("datadog");
      if (stackdriver != null) names.add("stackdriver");
      if (openCensusAgent != null) names.add("openCensusAgent");
      return List.copyOf(names);
    }

    /** A tracer at {@code host:port}. */
    public record Address(@Nullable String address) {}

    /** Lightstep at {@code host:port} with its token. */
    public record Lightstep(@Nullable String address, @Nullable String accessToken) {}

    /** OpenCensus agent at {@code host:port} with its propagation formats. */
    public record OpenCensusAgent(@Nullable String address, List<String> context) {
      public OpenCensusAgent {
        context = ExtensionProvider.list(context);
      }
    }

    /** Stackdriver limits. */
    public record Stackdriver(
        @Nullable Boolean debug,
        @Nullable Long maxNumberOfAttributes,
        @Nullable Long maxNumberOfAnnotations,
        @Nullable Long maxNumberOfMessageEvents) {}

    /** A span tag from a literal, an environment variable or a request header (one of them). */
    public record CustomTag(
        @Nullable Literal literal, @Nullable FromName environment, @Nullable FromName header) {
      /** A fixed value. */
      public record Literal(@Nullable String value) {}

      /** A value read by name, with a default. */
      public record FromName(@Nullable String name, @Nullable String defaultValue) {}
    }
  }

  /** MeshConfig {@code ca}: an external CA istiod talks to. */
  public record CertificateAuthority(
      @Nullable String address,
      @Nullable ClientTLSSettings tlsSettings,
      @Nullable Duration requestTimeout,
      @Nullable Boolean istiodSide) {}

  /** One of MeshConfig's {@code caCertificates}: a PEM bundle or a SPIFFE bundle URL. */
  public record CertificateData(
      @Nullable String pem,
      @Nullable String spiffeBundleUrl,
      List<String> certSigners,
      List<String> trustDomains) {
    public CertificateData {
      certSigners = ExtensionProvider.list(certSigners);
      trustDomains = ExtensionProvider.list(trustDomains);
    }
  }

  /** A Kubernetes label selector ({@code discoverySelectors}). */
  public record LabelSelector(Map<String, String> matchLabels, List<Requirement> matchExpressions) {
    public LabelSelector {
      matchLabels = ExtensionProvider.map(matchLabels);
      matchExpressions = ExtensionProvider.list(matchExpressions);
    }

    /** {@code key operator values}. */
    public record Requirement(
        @Nullable String key, @Nullable String operator, List<String> values) {
      public Requirement {
        values = ExtensionProvider.list(values);
      }
    }
  }

  /** {@code defaultProviders}: extension provider names used when Telemetry names none. */
  public record DefaultProviders(
      List<String> tracing, List<String> metrics, List<String> accessLogging) {
    public DefaultProviders {
      tracing = ExtensionProvider.list(tracing);
      metrics = ExtensionProvider.list(metrics);
      accessLogging = ExtensionProvider.list(accessLogging);
    }
  }

  /** {@code tcpKeepalive}: TCP keepalive towards upstreams. */
  public record TcpKeepalive(
      @Nullable Integer probes, @Nullable Duration time, @Nullable Duration interval) {}

  /** {@code meshMTLS} and {@code tlsDefaults}: TLS versions and ciphers. */
  public record TlsConfig(
      @Nullable TlsVersion minProtocolVersion, List<String> ecdhCurves, List<String> cipherSuites) {
    public TlsConfig {
      ecdhCurves = ExtensionProvider.list(ecdhCurves);
      cipherSuites = ExtensionProvider.list(cipherSuites);
    }

    /** Istio's TLS protocol versions. */
    public enum TlsVersion {
      TLS_AUTO,
      TLSV1_2,
      TLSV1_3
    }
  }

  /** {@code pathNormalization}: how the proxy normalizes request paths. */
  public record PathNormalization(@Nullable Normalization normalization) {
    /** Istio's path normalization levels. */
    public enum Normalization {
      DEFAULT,
      NONE,
      BASE,
      MERGE_SLASHES,
      DECODE_AND_MERGE_SLASHES
    }
  }

  /** {@code inboundTrafficPolicy}: where inbound traffic goes. */
  public record InboundTrafficPolicy(@Nullable Mode mode) {
    /** PASSTHROUGH keeps the original address; LOCALHOST sends to localhost. */
    public enum Mode {
      PASSTHROUGH,
      LOCALHOST
    }
  }

  /** {@code serviceSettings}: settings for hosts matching {@code hosts}. */
  public record ServiceSettings(@Nullable Settings settings, List<String> hosts) {
    public ServiceSettings {
      hosts = ExtensionProvider.list(hosts);
    }

    /** The settings. */
    public record Settings(@Nullable Boolean clusterLocal) {}
  }

  /** {@code certificates}: DNS certificates istiod issues (deprecated in Istio). */
  public record Certificate(@Nullable String secretName, List<String> dnsNames) {
    public Certificate {
      dnsNames = ExtensionProvider.list(dnsNames);
    }
  }

  /** {@code thriftConfig}: the Thrift rate limit service. */
  public record ThriftConfig(@Nullable String rateLimitUrl, @Nullable Duration rateLimitTimeout) {}

  /** {@code configSources}: where istiod reads config from besides Kubernetes. */
  public record ConfigSource(
      @Nullable String address,
      @Nullable ClientTLSSettings tlsSettings,
      List<Resource> subscribedResources) {
    public ConfigSource {
      subscribedResources = ExtensionProvider.list(subscribedResources);
    }

    /** The resource kinds a config source may serve. */
    public enum Resource {
      SERVICE_REGISTRY
    }
  }

  /** {@code serviceScopeConfigs}: whether selected services stay local or are global. */
  public record ServiceScopeConfigs(
      @Nullable LabelSelector servicesSelector, @Nullable Scope scope) {
    /** LOCAL services are reachable only in their own cluster; GLOBAL ones everywhere. */
    public enum Scope {
      LOCAL,
      GLOBAL
    }
  }

  /** {@code defaultConfig.sds}: the legacy secret discovery settings (deprecated in Istio). */
  public record Sds(@Nullable Boolean enabled, @Nullable String k8sSaJwtPath) {}

  /**
   * {@code defaultConfig.envoyMetricsService} and {@code envoyAccessLogService}: a gRPC service the
   * proxy streams to.
   */
  public record RemoteService(
      @Nullable String address,
      @Nullable ClientTLSSettings tlsSettings,
      dev.bowline.api.model.ConnectionPoolSettings.TCPSettings.@Nullable TcpKeepalive
          tcpKeepalive) {}

  /** {@code defaultConfig.gatewayTopology}: what a gateway trusts of its downstreams. */
  public record Topology(
      @Nullable Integer numTrustedProxies,
      @Nullable ForwardClientCertDetails forwardClientCertDetails,
      @Nullable ProxyProtocolConfiguration proxyProtocol) {
    /** Presence turns on the PROXY protocol listener filter; it has no fields. */
    public record ProxyProtocolConfiguration() {}
  }

  /** How the {@code x-forwarded-client-cert} header is handled (Istio's enum). */
  public enum ForwardClientCertDetails {
    UNDEFINED,
    SANITIZE,
    FORWARD_ONLY,
    APPEND_FORWARD,
    SANITIZE_SET,
    ALWAYS_FORWARD_ONLY
  }

  /** {@code defaultConfig.privateKeyProvider}: a hardware key provider (one of them). */
  public record PrivateKeyProvider(@Nullable Provider cryptomb, @Nullable Provider qat) {
    /** Polling delay and software fallback of a provider. */
    public record Provider(@Nullable Duration pollDelay, @Nullable Boolean fallback) {}
  }

  /** {@code defaultConfig.tracingServiceName}: how the tracing service name is derived. */
  public enum TracingServiceName {
    APP_LABEL_AND_NAMESPACE,
    CANONICAL_NAME_ONLY,
    CANONICAL_NAME_AND_NAMESPACE
  }

  /** {@code defaultConfig.proxyHeaders}: which headers the proxy adds, keeps or forwards. */
  public record ProxyHeaders(
      @Nullable ForwardClientCertDetails forwardedClientCert,
      @Nullable SetCurrentClientCertDetails setCurrentClientCertDetails,
      @Nullable Disabled requestId,
      @Nullable Server server,
      @Nullable Disabled attemptCount,
      @Nullable Disabled envoyDebugHeaders,
      @Nullable MetadataExchangeHeaders metadataExchangeHeaders,
      @Nullable Boolean preserveHttp1HeaderCase,
      @Nullable Enabled xForwardedHost,
      @Nullable Enabled xForwardedPort) {

    /** A header the proxy adds unless {@code disabled}. */
    public record Disabled(@Nullable Boolean disabled) {}

    /** A header the proxy adds only when {@code enabled}. */
    public record Enabled(@Nullable Boolean enabled) {}

    /** The {@code server} response header: off, or a custom value. */
    public record Server(@Nullable Boolean disabled, @Nullable String value) {}

    /** Where the metadata exchange headers are sent. */
    public record MetadataExchangeHeaders(@Nullable Mode mode) {
      /** UNDEFINED: always; IN_MESH: only to in-mesh destinations. */
      public enum Mode {
        UNDEFINED,
        IN_MESH
      }
    }

    /** Which client certificate details go into {@code x-forwarded-client-cert}. */
    public record SetCurrentClientCertDetails(
        @Nullable Boolean subject,
        @Nullable Boolean cert,
        @Nullable Boolean chain,
        @Nullable Boolean dns,
        @Nullable Boolean uri) {}
  }
}
