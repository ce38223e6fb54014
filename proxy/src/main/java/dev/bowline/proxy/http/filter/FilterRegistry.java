package dev.bowline.proxy.http.filter;

import com.google.protobuf.Descriptors.Descriptor;
import dev.bowline.proxy.http.filter.router.RouterFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/** The HTTP filter factories known to one proxy, by type URL. Immutable; injected, never global. */
public final class FilterRegistry {
  private final List<HttpFilterFactory<?>> factories;
  private final Map<String, HttpFilterFactory<?>> byTypeUrl;
  private final Map<String, dev.bowline.proxy.network.NetworkFilterFactory> network;
  private final Map<String, dev.bowline.proxy.network.UpstreamFilterFactory> upstream;

  /**
   * Per-route config types and {@code TypedStruct} message types by type URL, built at their first
   * use: asking the factories for them builds the descriptors of every filter's protos (RBAC with
   * its CEL, JWT, ext_authz...), which a config without per-route configs or typed structs never
   * needs (decision 0036).
   */
  private volatile @Nullable Types types;

  private record Types(
      Map<String, HttpFilterFactory<?>> byPerRouteTypeUrl, Map<String, Descriptor> messages) {}

  private FilterRegistry(
      List<HttpFilterFactory<?>> factories,
      Map<String, HttpFilterFactory<?>> byTypeUrl,
      Map<String, dev.bowline.proxy.network.NetworkFilterFactory> network,
      Map<String, dev.bowline.proxy.network.UpstreamFilterFactory> upstream) {
    this.factories = List.copyOf(factories);
    this.byTypeUrl = Map.copyOf(byTypeUrl);
    this.network = Map.copyOf(network);
    this.upstream = Map.copyOf(upstream);
  }

  /** This registry plus the upstream network filter factories ({@code Cluster.filters}). */
  public FilterRegistry withUpstream(
      List<dev.bowline.proxy.network.UpstreamFilterFactory> factories) {
    Map<String, dev.bowline.proxy.network.UpstreamFilterFactory> m = new HashMap<>(upstream);
    for (var f : factories) {
      if (m.put(f.typeUrl(), f) != null) {
        throw new IllegalArgumentException("two upstream filter factories for " + f.typeUrl());
      }
    }
    return new FilterRegistry(this.factories, byTypeUrl, network, m);
  }

  /** The upstream network filter factory for {@code typeUrl}. */
  public Optional<dev.bowline.proxy.network.UpstreamFilterFactory> findUpstream(String typeUrl) {
    return Optional.ofNullable(upstream.get(typeUrl));
  }

  /** This registry plus the non-terminal network filter factories {@code factories}. */
  public FilterRegistry withNetwork(
      List<dev.bowline.proxy.network.NetworkFilterFactory> factories) {
    Map<String, dev.bowline.proxy.network.NetworkFilterFactory> m = new HashMap<>(network);
    for (var f : factories) {
      if (m.put(f.typeUrl(), f) != null) {
        throw new IllegalArgumentException("two network filter factories for " + f.typeUrl());
      }
    }
    return new FilterRegistry(this.factories, byTypeUrl, m, upstream);
  }

  /** The non-terminal network filter factory for {@code typeUrl}. */
  public Optional<dev.bowline.proxy.network.NetworkFilterFactory> findNetwork(String typeUrl) {
    return Optional.ofNullable(network.get(typeUrl));
  }

  /** A registry of {@code factories}; two with the same type URL are an error. */
  public static FilterRegistry of(List<HttpFilterFactory<?>> factories) {
    Map<String, HttpFilterFactory<?>> m = new HashMap<>();
    for (HttpFilterFactory<?> f : factories) {
      if (m.put(f.typeUrl(), f) != null) {
        throw new IllegalArgumentException("two HTTP filter factories for " + f.typeUrl());
      }
    }
    return new FilterRegistry(factories, m, Map.of(), Map.of());
  }

  private Types types() {
    Types t = types;
    if (t == null) {
      synchronized (this) {
        t = types;
        if (t == null) {
          t = buildTypes();
          types = t;
        }
      }
    }
    return t;
  }

  private Types buildTypes() {
    Map<String, HttpFilterFactory<?>> perRoute = new HashMap<>();
    Map<String, Descriptor> messages = new HashMap<>();
    for (HttpFilterFactory<?> f : factories) {
      Descriptor type = f.configType();
      if (type != null) {
        messages.put(f.typeUrl(), type);
      }
      for (Descriptor p : f.perRouteTypes()) {
        String url = "type.googleapis.com/" + p.getFullName();
        if (perRoute.put(url, f) != null) {
          throw new IllegalStateException("two HTTP filter factories for per-route " + url);
        }
        messages.put(url, p);
      }
    }
    return new Types(Map.copyOf(perRoute), Map.copyOf(messages));
  }

  /** The filters this proxy ships with, for a proxy without a node (tests, tools). */
  public static FilterRegistry builtIn() {
    return builtIn(
        new FilterEnvironment(
            NodeInfo.EMPTY, new dev.bowline.proxy.stats.Stats(), java.time.Clock.systemUTC()));
  }

  /**
   * The filters this proxy ships with: the router, fault, CORS and local rate limit, and Istio's
   * telemetry extensions (metadata exchange, stats) behind the Wasm filter's null VM.
   */
  public static FilterRegistry builtIn(FilterEnvironment env) {
    var stats = new dev.bowline.proxy.http.filter.stats.StatsPlugin(env);
    // istio-proxy's TCP metadata exchange: one factory, downstream (listener) and upstream
    // (cluster) filter
    var tcpMx = new dev.bowline.proxy.network.metadataexchange.TcpMetadataExchangeFactory(env);
    return of(List.of(
            new RouterFactory(),
            new dev.bowline.proxy.http.filter.fault.FaultFactory(),
            new dev.bowline.proxy.http.filter.cors.CorsFactory(),
            new dev.bowline.proxy.http.filter.jwt.JwtAuthnFactory(
                env.clock(), System::nanoTime, env.stats()),
            new dev.bowline.proxy.http.filter.istioauthn.IstioAuthnFactory(),
            new dev.bowline.proxy.http.filter.alpn.AlpnFactory(),
            new dev.bowline.proxy.http.filter.rbac.RbacFactory(env.stats()),
            new dev.bowline.proxy.http.filter.extauthz.ExtAuthzFactory(env.stats()),
            new dev.bowline.proxy.http.filter.localratelimit.LocalRateLimitFactory(
                env.stats(), System::nanoTime),
            new dev.bowline.proxy.http.filter.wasm.WasmFactory(
                List.of(
                    new dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangePlugin(
                        env.node()),
                    stats))))
        .withNetwork(
            List.of(
                new dev.bowline.proxy.network.rbac.NetworkRbacFactory(env.stats()),
                new dev.bowline.proxy.network.extauthz.NetworkExtAuthzFactory(env.stats()),
                tcpMx,
                new dev.bowline.proxy.network.wasm.NetworkWasmFactory(List.of(stats))))
        .withUpstream(List.of(tcpMx));
  }

  public Optional<HttpFilterFactory<?>> find(String typeUrl) {
    return Optional.ofNullable(byTypeUrl.get(typeUrl));
  }

  /** The factory whose per-route config has {@code typeUrl}. */
  public Optional<HttpFilterFactory<?>> findPerRoute(String typeUrl) {
    return Optional.ofNullable(types().byPerRouteTypeUrl().get(typeUrl));
  }

  /** The message type of a filter or per-route config type URL (to read a TypedStruct). */
  public Optional<Descriptor> message(String typeUrl) {
    return Optional.ofNullable(types().messages().get(typeUrl));
  }
}
