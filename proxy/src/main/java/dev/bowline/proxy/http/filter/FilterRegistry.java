package dev.bowline.proxy.http.filter;

import dev.bowline.proxy.http.filter.router.RouterFactory;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The HTTP filter factories known to one proxy, by type URL. Immutable; injected, never global. */
public final class FilterRegistry {
  private final Map<String, HttpFilterFactory<?>> byTypeUrl;

  private FilterRegistry(Map<String, HttpFilterFactory<?>> byTypeUrl) {
    this.byTypeUrl = Map.copyOf(byTypeUrl);
  }

  /** A registry of {@code factories}; two with the same type URL are an error. */
  public static FilterRegistry of(List<HttpFilterFactory<?>> factories) {
    Map<String, HttpFilterFactory<?>> m = new HashMap<>();
    for (HttpFilterFactory<?> f : factories) {
      if (m.put(f.typeUrl(), f) != null) {
        throw new IllegalArgumentException("two HTTP filter factories for " + f.typeUrl());
      }
    }
    return new FilterRegistry(m);
  }

  /** The filters this proxy ships with, for a proxy without a node (tests, tools). */
  public static FilterRegistry builtIn() {
    return builtIn(
        new FilterEnvironment(
            NodeInfo.EMPTY, new dev.bowline.proxy.stats.Stats(), java.time.Clock.systemUTC()));
  }

  /**
   * The filters this proxy ships with: the router, and Istio's telemetry extensions (metadata
   * exchange, stats) behind the Wasm filter's null VM.
   */
  public static FilterRegistry builtIn(FilterEnvironment env) {
    return of(
        List.of(
            new RouterFactory(),
            new dev.bowline.proxy.http.filter.wasm.WasmFactory(
                List.of(
                    new dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangePlugin(
                        env.node()),
                    new dev.bowline.proxy.http.filter.stats.StatsPlugin(env)))));
  }

  public Optional<HttpFilterFactory<?>> find(String typeUrl) {
    return Optional.ofNullable(byTypeUrl.get(typeUrl));
  }
}
