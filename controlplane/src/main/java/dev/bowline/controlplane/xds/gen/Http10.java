package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * istiod's HTTP/1.0 switch: a proxy whose node metadata says {@code HTTP10: "1"} (Istio's {@code
 * ISTIO_META_HTTP10}) gets {@code http_protocol_options.accept_http_10} on every connection manager
 * of its listeners, sidecar and gateway alike. Without it Envoy (and our proxy) answer HTTP/1.0
 * requests with 426.
 */
final class Http10 {
  private Http10() {}

  /** {@code g}'s listeners, with HTTP/1.0 accepted for proxies that ask for it. */
  static XdsGenerator accepting(XdsGenerator g) {
    return (proxy, push, names) -> {
      SortedMap<String, Message> out = g.generate(proxy, push, names);
      return proxy.http10() ? apply(out) : out;
    };
  }

  static SortedMap<String, Message> apply(SortedMap<String, Message> listeners) {
    SortedMap<String, Message> out = new TreeMap<>();
    for (Map.Entry<String, Message> e : listeners.entrySet()) {
      out.put(e.getKey(), e.getValue() instanceof Listener l ? listener(l) : e.getValue());
    }
    return out;
  }

  private static Listener listener(Listener l) {
    Listener.Builder b = l.toBuilder();
    for (FilterChain.Builder chain : b.getFilterChainsBuilderList()) {
      chain(chain);
    }
    if (b.hasDefaultFilterChain()) {
      chain(b.getDefaultFilterChainBuilder());
    }
    return b.build();
  }

  private static void chain(FilterChain.Builder chain) {
    for (Filter.Builder f : chain.getFiltersBuilderList()) {
      Any any = f.getTypedConfig();
      if (!any.is(HttpConnectionManager.class)) {
        continue;
      }
      try {
        HttpConnectionManager.Builder hcm = any.unpack(HttpConnectionManager.class).toBuilder();
        hcm.getHttpProtocolOptionsBuilder().setAcceptHttp10(true);
        f.setTypedConfig(Any.pack(hcm.build()));
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("our own connection manager does not parse", e);
      }
    }
  }
}
