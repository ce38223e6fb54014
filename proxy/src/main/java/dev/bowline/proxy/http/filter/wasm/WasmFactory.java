package dev.bowline.proxy.http.filter.wasm;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import io.envoyproxy.envoy.extensions.wasm.v3.VmConfig;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code envoy.filters.http.wasm} for null-VM plugins only: the proxy runs no WebAssembly, but
 * istio-proxy's telemetry extensions are configured this way (istiod 1.16 emits {@code
 * istio.metadata_exchange} and {@code istio.stats} as Wasm filters with {@code runtime:
 * envoy.wasm.runtime.null}), so the plugins named there are built in. A V8 runtime pointing at
 * istio's own compiled module ({@code /etc/istio/extensions/<name>-filter.compiled.wasm}) runs the
 * built-in plugin of that name, as Istio falls back to the null VM when Wasm telemetry is off.
 */
public final class WasmFactory implements HttpFilterFactory<WasmConfig> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";

  private static final String NULL_RUNTIME = "envoy.wasm.runtime.null";
  private static final Map<String, String> ISTIO_MODULES =
      Map.of(
          "/etc/istio/extensions/metadata-exchange-filter.compiled.wasm",
              "envoy.wasm.metadata_exchange",
          "/etc/istio/extensions/stats-filter.compiled.wasm", "envoy.wasm.stats");

  private final Map<String, NullVmPlugin<?>> plugins;

  /** A factory offering {@code plugins}; two with the same name are an error. */
  public WasmFactory(List<NullVmPlugin<?>> plugins) {
    Map<String, NullVmPlugin<?>> m = new TreeMap<>();
    for (NullVmPlugin<?> p : plugins) {
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
  public WasmConfig parse(Any typedConfig) throws InvalidProtocolBufferException {
    return parse(typedConfig, FilterContext.NONE);
  }

  @Override
  public WasmConfig parse(Any typedConfig, FilterContext context)
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
    NullVmPlugin<?> plugin = plugins.get(name);
    if (plugin == null) {
      throw new IllegalArgumentException(
          "config.vm_config.code.local.inline_string: unknown null-VM plugin '"
              + name
              + "' (known: "
              + String.join(", ", new TreeMap<>(plugins).keySet())
              + ")");
    }
    Object config;
    try {
      config = plugin.parse(pc.getRootId(), pc.getConfiguration(), context);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("config.configuration: " + e.getMessage(), e);
    }
    return new WasmConfig(plugin, pc.getRootId(), config);
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
              + " and Istio's own telemetry modules)");
    }
    return module;
  }

  @Override
  public HttpFilter create(WasmConfig config) {
    throw new UnsupportedOperationException("Wasm plugins need the stream");
  }

  @Override
  public HttpFilter create(WasmConfig config, StreamInfo stream) {
    return create(config.plugin(), config.config(), stream);
  }

  @SuppressWarnings("unchecked")
  private static <C> HttpFilter create(NullVmPlugin<C> plugin, Object config, StreamInfo stream) {
    return plugin.create((C) config, stream);
  }
}
