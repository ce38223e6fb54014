package dev.bowline.proxy.network.wasm;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.wasm.NullVmPlugins;
import dev.bowline.proxy.network.NetworkFilterFactory;
import dev.bowline.proxy.network.ReadFilter;
import io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm;
import java.util.List;
import java.util.Map;

/**
 * {@code envoy.filters.network.wasm} for null-VM plugins only (decision 0015's rule for the HTTP
 * Wasm filter, applied to network filters): {@code runtime: envoy.wasm.runtime.null} with {@code
 * code.local.inline_string} naming a built-in plugin, or Istio's own compiled stats module, which
 * maps to the built-in one.
 */
public final class NetworkWasmFactory implements NetworkFilterFactory {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";

  private static final Map<String, String> ISTIO_MODULES =
      Map.of("/etc/istio/extensions/stats-filter.compiled.wasm", "envoy.wasm.stats");

  private final NullVmPlugins<NetworkNullVmPlugin> plugins;

  /** A factory offering {@code plugins}; two with the same name are an error. */
  public NetworkWasmFactory(List<NetworkNullVmPlugin> plugins) {
    this.plugins =
        new NullVmPlugins<>(
            plugins,
            NetworkNullVmPlugin::name,
            ISTIO_MODULES,
            "network null-VM",
            "Istio's own stats module");
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public ReadFilter parse(Any typedConfig) throws InvalidProtocolBufferException {
    return parse(typedConfig, FilterContext.NONE);
  }

  @Override
  public ReadFilter parse(Any typedConfig, FilterContext context)
      throws InvalidProtocolBufferException {
    Wasm w = Anys.unpack(typedConfig, Wasm.getDescriptor(), Wasm.parser());
    if (!w.hasConfig()) {
      throw new IllegalArgumentException("config: is required");
    }
    var pc = w.getConfig();
    NetworkNullVmPlugin plugin = plugins.named(pc);
    try {
      return plugin.parseNetwork(pc.getRootId(), pc.getConfiguration(), context);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("config.configuration: " + e.getMessage(), e);
    }
  }
}
