package dev.bowline.controlplane.xds.gen.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import dev.bowline.api.mesh.ExtensionProvider;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.mesh.MeshTypes;
import dev.bowline.api.model.Telemetry;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.registry.RegistrySnapshot;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HttpService;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKey;
import io.envoyproxy.envoy.type.metadata.v3.MetadataKind;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * A connection manager's {@code tracing} as istiod 1.16 writes it ({@code configureTracing}): from
 * the Telemetry side's {@link TracingSpec} (the provider's {@code envoy.tracers.zipkin} or {@code
 * envoy.tracers.opentelemetry} config, its collector cluster {@code outbound|port||host} looked up
 * in the registry), or, with no Telemetry and no default provider, MeshConfig's {@code
 * enableTracing} with {@code defaultConfig.tracing}'s sampling and tags and no provider. Sampling:
 * client and overall 100%, random the spec's percentage, else {@code defaultConfig.tracing
 * .sampling}, else Istio's 1%. Tags: Istio's dry-run policy tags and service tags, then the spec's
 * (or MeshConfig's) custom tags, sorted by name.
 */
public final class TracingConfigs {
  /** Istio's default sampling percentage ({@code PILOT_TRACE_SAMPLING}). */
  static final double DEFAULT_SAMPLING = 1.0;

  static final String ZIPKIN = "envoy.tracers.zipkin";
  static final String OPENTELEMETRY = "envoy.tracers.opentelemetry";

  private TracingConfigs() {}

  /**
   * The tracing of one side ({@code spec} null: the MeshConfig fallback), or null when tracing is
   * off there. Problems (an unknown collector service) are added to {@code warnings}.
   */
  public static HttpConnectionManager.@Nullable Tracing of(
      @Nullable TracingSpec spec,
      boolean legacy,
      MeshConfig mesh,
      Proxy proxy,
      RegistrySnapshot registry,
      List<String> warnings) {
    MeshTypes.Tracing proxyTracing =
        mesh.defaultConfig() == null ? null : mesh.defaultConfig().tracing();
    HttpConnectionManager.Tracing.Builder t = HttpConnectionManager.Tracing.newBuilder();
    if (legacy) {
      if (!Boolean.TRUE.equals(mesh.enableTracing())) {
        return null;
      }
      sampling(t, meshSampling(proxyTracing));
      customTags(t, Map.of(), proxyTracing, mesh, proxy);
      if (proxyTracing != null && proxyTracing.maxPathTagLength() != null) {
        t.setMaxPathTagLength(UInt32Value.of(proxyTracing.maxPathTagLength()));
      }
      return t.build();
    }
    if (spec == null || spec.disabled() || spec.provider() == null) {
      return null;
    }
    Integer maxTag = provider(t, spec.provider(), registry, warnings);
    if (maxTag == null && !t.hasProvider()) {
      return null; // the collector is not in the registry: istiod leaves tracing off too
    }
    if (maxTag != null && maxTag > 0) {
      t.setMaxPathTagLength(UInt32Value.of(maxTag));
    }
    sampling(
        t,
        spec.randomSamplingPercentage() != null
            ? spec.randomSamplingPercentage()
            : meshSampling(proxyTracing));
    customTags(t, spec.customTags(), proxyTracing, mesh, proxy);
    if (!t.hasMaxPathTagLength()
        && proxyTracing != null
        && proxyTracing.maxPathTagLength() != null
        && proxyTracing.maxPathTagLength() != 0) {
      t.setMaxPathTagLength(UInt32Value.of(proxyTracing.maxPathTagLength()));
    }
    return t.build();
  }

  private static double meshSampling(MeshTypes.@Nullable Tracing t) {
    if (t == null || t.sampling() == null || t.sampling() == 0) {
      return DEFAULT_SAMPLING;
    }
    return t.sampling() > 100 ? DEFAULT_SAMPLING : t.sampling();
  }

  private static void sampling(HttpConnectionManager.Tracing.Builder t, double random) {
    t.setClientSampling(Percent.newBuilder().setValue(100))
        .setRandomSampling(Percent.newBuilder().setValue(random))
        .setOverallSampling(Percent.newBuilder().setValue(100));
  }

  /**
   * Sets the provider on {@code t}; returns its {@code maxTagLength} (0 when unset), or null when
   * its collector service cannot be found.
   */
  private static @Nullable Integer provider(
      HttpConnectionManager.Tracing.Builder t,
      ExtensionProvider p,
      RegistrySnapshot registry,
      List<String> warnings) {
    if (p.zipkin() != null) {
      var z = p.zipkin();
      String[] hc = lookup(registry, z.service(), z.port(), p.name(), warnings);
      if (hc == null) {
        return null;
      }
      ZipkinConfig.Builder zc =
          ZipkinConfig.newBuilder()
              .setCollectorCluster(hc[1])
              .setCollectorEndpoint(
                  z.path() == null || z.path().isEmpty() ? "/api/v2/spans" : z.path())
              .setCollectorEndpointVersion(ZipkinConfig.CollectorEndpointVersion.HTTP_JSON)
              .setTraceId128Bit(!Boolean.TRUE.equals(z.enable64bitTraceId()))
              .setSharedSpanContext(BoolValue.of(false))
              .setCollectorHostname(hc[0]);
      t.setProvider(
          io.envoyproxy.envoy.config.trace.v3.Tracing.Http.newBuilder()
              .setName(ZIPKIN)
              .setTypedConfig(Any.pack(zc.build())));
      return z.maxTagLength() == null ? 0 : z.maxTagLength();
    }
    var o = p.opentelemetry();
    String[] hc = lookup(registry, o.service(), o.port(), p.name(), warnings);
    if (hc == null) {
      return null;
    }
    OpenTelemetryConfig.Builder oc = OpenTelemetryConfig.newBuilder();
    if (o.http() != null) {
      var h = o.http();
      String path = h.path() == null || h.path().isEmpty() ? "/v1/traces" : h.path();
      HttpUri.Builder uri =
          HttpUri.newBuilder()
              .setUri("http://" + hc[0] + ":" + o.port() + (path.startsWith("/") ? "" : "/") + path)
              .setCluster(hc[1])
              .setTimeout(
                  duration(h.timeout() == null ? java.time.Duration.ofSeconds(5) : h.timeout()));
      HttpService.Builder hs = HttpService.newBuilder().setHttpUri(uri);
      for (var header : h.headers()) {
        hs.addRequestHeadersToAdd(
            HeaderValueOption.newBuilder()
                .setHeader(
                    HeaderValue.newBuilder().setKey(header.name()).setValue(header.value())));
      }
      oc.setHttpService(hs);
    } else {
      GrpcService.Builder gs =
          GrpcService.newBuilder()
              .setEnvoyGrpc(
                  GrpcService.EnvoyGrpc.newBuilder().setClusterName(hc[1]).setAuthority(hc[0]));
      if (o.grpc() != null) {
        if (o.grpc().timeout() != null) {
          gs.setTimeout(duration(o.grpc().timeout()));
        }
        for (var header : o.grpc().initialMetadata()) {
          gs.addInitialMetadata(
              HeaderValue.newBuilder().setKey(header.name()).setValue(header.value()));
        }
      }
      oc.setGrpcService(gs);
    }
    t.setProvider(
        io.envoyproxy.envoy.config.trace.v3.Tracing.Http.newBuilder()
            .setName(OPENTELEMETRY)
            .setTypedConfig(Any.pack(oc.build())));
    return o.maxTagLength() == null ? 0 : o.maxTagLength();
  }

  private static com.google.protobuf.Duration duration(java.time.Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  /**
   * istiod's {@code LookupCluster}: {@code namespace/host} or a host found in exactly one
   * namespace; returns {hostname, {@code outbound|port||hostname}} or null (with a warning).
   */
  static String @Nullable [] lookup(
      RegistrySnapshot registry,
      @Nullable String service,
      @Nullable Integer port,
      @Nullable String provider,
      List<String> warnings) {
    String where = "meshConfig.extensionProviders[" + provider + "]";
    if (service == null || service.isEmpty()) {
      warnings.add(where + ".service: must not be empty");
      return null;
    }
    if (port == null || port <= 0) {
      warnings.add(where + ".port: must be a port number");
      return null;
    }
    String host;
    int slash = service.indexOf('/');
    if (slash > 0) {
      String ns = service.substring(0, slash);
      String name = service.substring(slash + 1);
      host =
          registry.services().stream()
              .filter(s -> s.hostname().equals(name) && s.namespace().equals(ns))
              .map(Service::hostname)
              .findFirst()
              .orElse(null);
      if (host == null) {
        warnings.add(where + ".service: could not find service " + name + " in namespace " + ns);
        return null;
      }
    } else {
      TreeSet<String> namespaces = new TreeSet<>();
      for (Service s : registry.services()) {
        if (s.hostname().equals(service)) {
          namespaces.add(s.namespace());
        }
      }
      if (namespaces.size() != 1) {
        warnings.add(
            where
                + ".service: "
                + (namespaces.isEmpty()
                    ? "could not find service " + service + " in the service registry"
                    : "found "
                        + service
                        + " in namespaces "
                        + namespaces
                        + "; name one as ns/host"));
        return null;
      }
      host = service;
    }
    return new String[] {host, "outbound|" + port + "||" + host};
  }

  private static void customTags(
      HttpConnectionManager.Tracing.Builder t,
      Map<String, Telemetry.Tracing.CustomTag> specTags,
      MeshTypes.@Nullable Tracing proxyTracing,
      MeshConfig mesh,
      Proxy proxy) {
    List<CustomTag> tags = new ArrayList<>();
    for (String[] dryRun :
        new String[][] {
          {
            "istio.authorization.dry_run.allow_policy.name",
            "istio_dry_run_allow_shadow_effective_policy_id"
          },
          {
            "istio.authorization.dry_run.allow_policy.result",
            "istio_dry_run_allow_shadow_engine_result"
          },
          {
            "istio.authorization.dry_run.deny_policy.name",
            "istio_dry_run_deny_shadow_effective_policy_id"
          },
          {
            "istio.authorization.dry_run.deny_policy.result",
            "istio_dry_run_deny_shadow_engine_result"
          }
        }) {
      tags.add(
          CustomTag.newBuilder()
              .setTag(dryRun[0])
              .setMetadata(
                  CustomTag.Metadata.newBuilder()
                      .setKind(
                          MetadataKind.newBuilder()
                              .setRequest(MetadataKind.Request.getDefaultInstance()))
                      .setMetadataKey(
                          MetadataKey.newBuilder()
                              .setKey("envoy.filters.http.rbac")
                              .addPath(MetadataKey.PathSegment.newBuilder().setKey(dryRun[1]))))
              .build());
    }
    Map<String, String> labels = proxy.labels();
    String revision = labels.getOrDefault("service.istio.io/canonical-revision", "");
    String service = labels.getOrDefault("service.istio.io/canonical-name", "");
    // the injector sets these labels from app.kubernetes.io/name|app and version; ours may not
    if (service.isEmpty()) {
      service = labels.getOrDefault("app.kubernetes.io/name", labels.getOrDefault("app", ""));
    }
    if (revision.isEmpty()) {
      revision =
          labels.getOrDefault("app.kubernetes.io/version", labels.getOrDefault("version", ""));
    }
    String meshId = mesh.trustDomain() == null ? "" : mesh.trustDomain();
    tags.add(literal("istio.canonical_revision", revision.isEmpty() ? "latest" : revision));
    tags.add(literal("istio.canonical_service", service.isEmpty() ? "unknown" : service));
    tags.add(literal("istio.mesh_id", meshId.isEmpty() ? "unknown" : meshId));
    tags.add(
        literal("istio.namespace", proxy.namespace().isEmpty() ? "default" : proxy.namespace()));
    if (specTags.isEmpty()) {
      if (proxyTracing != null) {
        proxyTracing
            .customTags()
            .forEach(
                (name, tag) -> {
                  if (tag.literal() != null) {
                    tags.add(literal(name, nz(tag.literal().value())));
                  } else if (tag.environment() != null) {
                    tags.add(env(name, tag.environment().name(), tag.environment().defaultValue()));
                  } else if (tag.header() != null) {
                    tags.add(header(name, tag.header().name(), tag.header().defaultValue()));
                  }
                });
      }
    } else {
      specTags.forEach(
          (name, tag) -> {
            if (tag.literal() != null) {
              tags.add(literal(name, nz(tag.literal().value())));
            } else if (tag.environment() != null) {
              tags.add(env(name, tag.environment().name(), tag.environment().defaultValue()));
            } else if (tag.header() != null) {
              tags.add(header(name, tag.header().name(), tag.header().defaultValue()));
            }
          });
    }
    tags.sort(Comparator.comparing(CustomTag::getTag));
    t.addAllCustomTags(tags);
  }

  private static String nz(@Nullable String s) {
    return s == null ? "" : s;
  }

  private static CustomTag literal(String tag, String value) {
    return CustomTag.newBuilder()
        .setTag(tag)
        .setLiteral(CustomTag.Literal.newBuilder().setValue(value))
        .build();
  }

  private static CustomTag env(String tag, @Nullable String name, @Nullable String def) {
    return CustomTag.newBuilder()
        .setTag(tag)
        .setEnvironment(
            CustomTag.Environment.newBuilder().setName(nz(name)).setDefaultValue(nz(def)))
        .build();
  }

  private static CustomTag header(String tag, @Nullable String name, @Nullable String def) {
    return CustomTag.newBuilder()
        .setTag(tag)
        .setRequestHeader(CustomTag.Header.newBuilder().setName(nz(name)).setDefaultValue(nz(def)))
        .build();
  }
}
