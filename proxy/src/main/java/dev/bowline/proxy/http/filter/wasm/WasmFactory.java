package dev.bowline.proxy.http.filter.wasm;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.envoyproxy.envoy.extensions.filters.http.wasm.v3.Wasm;
import java.util.List;
import java.util.Map;

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

  private static final Map<String, String> ISTIO_MODULES =
      Map.of(
          "/etc/istio/extensions/metadata-exchange-filter.compiled.wasm",
              "envoy.wasm.metadata_exchange",
          "/etc/istio/extensions/stats-filter.compiled.wasm", "envoy.wasm.stats");

  private final NullVmPlugins<NullVmPlugin<?>> plugins;

  /** A factory offering {@code plugins}; two with the same name are an error. */
  public WasmFactory(List<NullVmPlugin<?>> plugins) {
    this.plugins =
        new NullVmPlugins<>(
            plugins, NullVmPlugin::name, ISTIO_MODULES, "null-VM", "Istio's own telemetry modules");
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
    NullVmPlugin<?> plugin = plugins.named(pc);
    Object config;
    try {
      config = plugin.parse(pc.getRootId(), pc.getConfiguration(), context);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("config.configuration: " + e.getMessage(), e);
    }
    return new WasmConfig(plugin, pc.getRootId(), config);
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
