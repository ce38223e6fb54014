package dev.bowline.proxy.network.wasm;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.network.NetworkFilterFactory;
import dev.bowline.proxy.network.ReadFilter;
import io.envoyproxy.envoy.extensions.filters.network.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.wasm.v3.VmConfig;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code envoy.filters.network.wasm} for null-VM plugins only (decision 0015's rule for the HTTP
 * Wasm filter, applied to network filters): {@code runtime: envoy.wasm.runtime.null} with {@code
 * code.local.inline_string} naming a built-in plugin, or Istio's own compiled stats module, which
 * maps to the built-in one.
 */
public final class NetworkWasmFactory implements NetworkFilterFactory {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm";

  private static final String NULL_RUNTIME = "envoy.wasm.runtime.null";
  private static final Map<String, String> ISTIO_MODULES =
      Map.of("/etc/istio/extensions/stats-filter.compiled.wasm", "envoy.wasm.stats");

  private final Map<String, NetworkNullVmPlugin> plugins;

  /** A factory offering {@code plugins}; two with the same name are an error. */
  public NetworkWasmFactory(List<NetworkNullVmPlugin> plugins) {
    Map<String, NetworkNullVmPlugin> m = new TreeMap<>();
    for (NetworkNullVmPlugin p : plugins) {
      if (m.put(p.name(), p) != null) {
        throw new IllegalArgumentException("two null-VM plugins named " + p.name());
      }
    }
    this.plugins = Map.copyOf(m);
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
    if (!pc.hasVmConfig()) {
      throw new IllegalArgumentException("config.vm_config: is required (only the null VM runs)");
    }
    String name = pluginName(pc.getVmConfig());
    NetworkNullVmPlugin plugin = plugins.get(name);
    if (plugin == null) {
      throw new IllegalArgumentException(
          "config.vm_config.code.local.inline_string: unknown network null-VM plugin '"
              + name
              + "' (known: "
              + String.join(", ", new TreeMap<>(plugins).keySet())
              + ")");
    }
    try {
      return plugin.parseNetwork(pc.getRootId(), pc.getConfiguration(), context);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("config.configuration: " + e.getMessage(), e);
    }
  }

  private static String pluginName(VmConfig vm) {
    var code = vm.getCode();
    if (!code.hasLocal()) {
      throw new IllegalArgumentException(
          "config.vm_config.code.local: is required (remote Wasm modules are not run)");
    }
    var local = code.getLocal();
    if (vm.getRuntime().equals(NULL_RUNTIME)) {
      if (!local.hasInlineString()) {
        throw new IllegalArgumentException(
            "config.vm_config.code.local.inline_string: is required for the null VM");
      }
      return local.getInlineString();
    }
    String module = local.hasFilename() ? ISTIO_MODULES.get(local.getFilename()) : null;
    if (module == null) {
      throw new IllegalArgumentException(
          "config.vm_config.runtime: '"
              + vm.getRuntime()
              + "' is not supported (only "
              + NULL_RUNTIME
              + " and Istio's own stats module)");
    }
    return module;
  }
}
