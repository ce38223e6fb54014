package dev.bowline.api.mesh;

import dev.bowline.api.model.LocalityLoadBalancerSetting;
import dev.bowline.api.model.ProxyConfig;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.model.WorkloadGroup;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Istio's MeshConfig ({@code mesh.yaml}): mesh-wide settings. {@link #defaults()} holds Istio's
 * defaults; a {@code mesh.yaml} is applied on top of them field by field (see {@code
 * ResourceCodec#decodeMeshConfig}). Extension providers, tracing, the CA, CA certificates and
 * discovery selectors, config sources, the default retry policy and service scopes are typed
 * ({@link ExtensionProvider}, {@link MeshTypes}), as is every section of {@code defaultConfig}
 * (Istio's ProxyConfig): an unknown field anywhere is an error with its path.
 */
public record MeshConfig(
    @Nullable Integer proxyListenPort,
    @Nullable Integer proxyInboundListenPort,
    @Nullable Integer proxyHttpPort,
    @Nullable Duration connectTimeout,
    @Nullable Duration protocolDetectionTimeout,
    MeshTypes.@Nullable TcpKeepalive tcpKeepalive,
    @Nullable String ingressClass,
    @Nullable String ingressService,
    @Nullable String ingressControllerMode,
    @Nullable String ingressSelector,
    @Nullable Boolean enableTracing,
    @Nullable String accessLogFile,
    @Nullable String accessLogFormat,
    @Nullable String accessLogEncoding,
    @Nullable Boolean enableEnvoyAccessLogService,
    @Nullable Boolean disableEnvoyListenerLog,
    @Nullable ProxyDefaults defaultConfig,
    @Nullable OutboundTrafficPolicy outboundTrafficPolicy,
    MeshTypes.@Nullable InboundTrafficPolicy inboundTrafficPolicy,
    List<MeshTypes.ConfigSource> configSources,
    @Nullable Boolean enableAutoMtls,
    @Nullable String trustDomain,
    List<String> trustDomainAliases,
    List<MeshTypes.CertificateData> caCertificates,
    List<String> defaultServiceExportTo,
    List<String> defaultVirtualServiceExportTo,
    List<String> defaultDestinationRuleExportTo,
    @Nullable String rootNamespace,
    @Nullable LocalityLoadBalancerSetting localityLbSetting,
    @Nullable Duration dnsRefreshRate,
    @Nullable String h2UpgradePolicy,
    @Nullable String inboundClusterStatName,
    @Nullable String outboundClusterStatName,
    List<MeshTypes.Certificate> certificates,
    MeshTypes.@Nullable ThriftConfig thriftConfig,
    List<MeshTypes.ServiceSettings> serviceSettings,
    @Nullable Boolean enablePrometheusMerge,
    @Nullable Boolean verifyCertificateAtClient,
    MeshTypes.@Nullable CertificateAuthority ca,
    List<ExtensionProvider> extensionProviders,
    MeshTypes.@Nullable DefaultProviders defaultProviders,
    List<MeshTypes.LabelSelector> discoverySelectors,
    MeshTypes.@Nullable PathNormalization pathNormalization,
    VirtualService.@Nullable HTTPRetry defaultHttpRetryPolicy,
    MeshTypes.@Nullable TlsConfig meshMTLS,
    MeshTypes.@Nullable TlsConfig tlsDefaults,
    List<MeshTypes.ServiceScopeConfigs> serviceScopeConfigs) {

  public MeshConfig {
    configSources = ExtensionProvider.list(configSources);
    trustDomainAliases = trustDomainAliases == null ? List.of() : List.copyOf(trustDomainAliases);
    caCertificates = ExtensionProvider.list(caCertificates);
    defaultServiceExportTo =
        defaultServiceExportTo == null ? List.of() : List.copyOf(defaultServiceExportTo);
    defaultVirtualServiceExportTo =
        defaultVirtualServiceExportTo == null
            ? List.of()
            : List.copyOf(defaultVirtualServiceExportTo);
    defaultDestinationRuleExportTo =
        defaultDestinationRuleExportTo == null
            ? List.of()
            : List.copyOf(defaultDestinationRuleExportTo);
    certificates = ExtensionProvider.list(certificates);
    serviceSettings = ExtensionProvider.list(serviceSettings);
    extensionProviders = ExtensionProvider.list(extensionProviders);
    discoverySelectors = ExtensionProvider.list(discoverySelectors);
    serviceScopeConfigs = ExtensionProvider.list(serviceScopeConfigs);
  }

  /** What happens to traffic for hosts outside the registry. */
  public record OutboundTrafficPolicy(@Nullable Mode mode) {
    /** REGISTRY_ONLY blocks unknown hosts; ALLOW_ANY passes them through. */
    public enum Mode {
      REGISTRY_ONLY,
      ALLOW_ANY
    }
  }

  /** The proxy settings every workload gets unless a ProxyConfig or annotation overrides them. */
  public record ProxyDefaults(
      @Nullable String configPath,
      @Nullable String binaryPath,
      @Nullable String serviceCluster,
      MeshTypes.@Nullable TracingServiceName tracingServiceName,
      @Nullable Duration drainDuration,
      @Nullable Duration parentShutdownDuration,
      @Nullable Duration terminationDrainDuration,
      @Nullable String discoveryAddress,
      @Nullable Duration discoveryRefreshDelay,
      @Nullable String zipkinAddress,
      @Nullable String statsdUdpAddress,
      MeshTypes.@Nullable RemoteService envoyMetricsService,
      MeshTypes.@Nullable RemoteService envoyAccessLogService,
      @Nullable Integer proxyAdminPort,
      @Nullable String availabilityZone,
      @Nullable String controlPlaneAuthPolicy,
      @Nullable String customConfigFile,
      @Nullable Integer statNameLength,
      @Nullable Integer concurrency,
      @Nullable String proxyBootstrapTemplatePath,
      @Nullable String interceptionMode,
      MeshTypes.@Nullable Tracing tracing,
      MeshTypes.@Nullable Sds sds,
      @Nullable Integer statusPort,
      WorkloadGroup.@Nullable ReadinessProbe readinessProbe,
      @Nullable Map<String, String> proxyMetadata,
      Map<String, String> runtimeValues,
      List<String> extraStatTags,
      MeshTypes.@Nullable Topology gatewayTopology,
      @Nullable Boolean holdApplicationUntilProxyStarts,
      List<String> caCertificatesPem,
      ProxyConfig.@Nullable ProxyImage image,
      MeshTypes.@Nullable PrivateKeyProvider privateKeyProvider,
      MeshTypes.@Nullable ProxyHeaders proxyHeaders,
      @Nullable String meshId,
      @Nullable ProxyStatsMatcher proxyStatsMatcher,
      @Nullable Duration fileFlushInterval,
      @Nullable Integer fileFlushMinSizeKb,
      @Nullable Boolean statsCompression) {
    public ProxyDefaults {
      caCertificatesPem = caCertificatesPem == null ? List.of() : List.copyOf(caCertificatesPem);
      proxyMetadata =
          proxyMetadata == null
              ? Map.of()
              : Collections.unmodifiableMap(new LinkedHashMap<>(proxyMetadata));
      runtimeValues =
          runtimeValues == null
              ? Map.of()
              : Collections.unmodifiableMap(new LinkedHashMap<>(runtimeValues));
      extraStatTags = extraStatTags == null ? List.of() : List.copyOf(extraStatTags);
    }
  }

  /** Which Envoy stats the proxy keeps beyond Istio's default set. */
  public record ProxyStatsMatcher(
      List<String> inclusionPrefixes,
      List<String> inclusionSuffixes,
      List<String> inclusionRegexps) {
    public ProxyStatsMatcher {
      inclusionPrefixes = inclusionPrefixes == null ? List.of() : List.copyOf(inclusionPrefixes);
      inclusionSuffixes = inclusionSuffixes == null ? List.of() : List.copyOf(inclusionSuffixes);
      inclusionRegexps = inclusionRegexps == null ? List.of() : List.copyOf(inclusionRegexps);
    }
  }

  /** Istio's default mesh configuration (what istiod uses when {@code mesh.yaml} is empty). */
  public static MeshConfig defaults() {
    ProxyDefaults proxy =
        new ProxyDefaults(
            "./etc/istio/proxy", // configPath
            "/usr/local/bin/envoy", // binaryPath
            "istio-proxy", // serviceCluster
            null, // tracingServiceName
            Duration.ofSeconds(45), // drainDuration
            null, // parentShutdownDuration
            Duration.ofSeconds(5), // terminationDrainDuration
            "istiod.istio-system.svc:15012", // discoveryAddress
            null, // discoveryRefreshDelay
            null, // zipkinAddress
            null, // statsdUdpAddress
            null, // envoyMetricsService
            null, // envoyAccessLogService
            15000, // proxyAdminPort
            null, // availabilityZone
            "MUTUAL_TLS", // controlPlaneAuthPolicy
            null, // customConfigFile
            null, // statNameLength
            2, // concurrency
            null, // proxyBootstrapTemplatePath
            "REDIRECT", // interceptionMode
            new MeshTypes.Tracing(
                new MeshTypes.Tracing.Address("zipkin.istio-system:9411"),
                null,
                null,
                null,
                null,
                Map.of(),
                null,
                null,
                null),
            null, // sds
            15020, // statusPort
            null, // readinessProbe
            Map.of(), // proxyMetadata
            Map.of(), // runtimeValues
            List.of(), // extraStatTags
            null, // gatewayTopology
            false, // holdApplicationUntilProxyStarts
            List.of(), // caCertificatesPem
            null, // image
            null, // privateKeyProvider
            null, // proxyHeaders
            null, // meshId
            new ProxyStatsMatcher(List.of(), List.of(), List.of()),
            null, // fileFlushInterval
            null, // fileFlushMinSizeKb
            null); // statsCompression
    return new MeshConfig(
        15001,
        15006,
        null,
        Duration.ofSeconds(10),
        Duration.ZERO,
        null,
        "istio",
        "istio-ingressgateway",
        "STRICT",
        null,
        true,
        "",
        "",
        "TEXT",
        false,
        false,
        proxy,
        new OutboundTrafficPolicy(OutboundTrafficPolicy.Mode.ALLOW_ANY),
        null,
        List.of(),
        true,
        "cluster.local",
        List.of(),
        List.of(),
        List.of("*"),
        List.of("*"),
        List.of("*"),
        "istio-system",
        new LocalityLoadBalancerSetting(List.of(), List.of(), List.of(), true),
        Duration.ofSeconds(60),
        "DO_NOT_UPGRADE",
        null,
        null,
        List.of(),
        null,
        List.of(),
        true,
        true,
        null,
        List.of(
            provider("prometheus", null, new ExtensionProvider.Prometheus(), null),
            provider(
                "stackdriver",
                new ExtensionProvider.Stackdriver(null, null, null, null, null, null),
                null,
                null),
            provider(
                "envoy", null, null, new ExtensionProvider.FileAccessLog("/dev/stdout", null))),
        new MeshTypes.DefaultProviders(List.of(), List.of("prometheus"), List.of()),
        List.of(),
        null,
        null,
        null,
        null,
        List.of());
  }

  private static ExtensionProvider provider(
      String name,
      ExtensionProvider.@Nullable Stackdriver stackdriver,
      ExtensionProvider.@Nullable Prometheus prometheus,
      ExtensionProvider.@Nullable FileAccessLog file) {
    return new ExtensionProvider(
        name,
        null,
        null,
        null,
        null,
        null,
        stackdriver,
        null,
        null,
        null,
        prometheus,
        file,
        null,
        null,
        null);
  }
}
