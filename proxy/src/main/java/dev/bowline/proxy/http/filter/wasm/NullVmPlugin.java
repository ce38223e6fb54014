package dev.bowline.proxy.http.filter.wasm;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamInfo;

/**
 * An extension compiled into the proxy and reached through the Wasm filter's null VM ({@code
 * vm_config.runtime: envoy.wasm.runtime.null}, {@code code.local.inline_string: <name>}), as
 * istio-proxy ships {@code envoy.wasm.metadata_exchange} and {@code envoy.wasm.stats}.
 *
 * @param <C> the plugin's config record
 */
public interface NullVmPlugin<C> {
  /** The name in {@code vm_config.code.local.inline_string}. */
  String name();

  /**
   * Builds the config from the plugin's {@code root_id} and {@code configuration}.
   *
   * @throws IllegalArgumentException naming the bad field, relative to {@code configuration}
   */
  C parse(String rootId, Any configuration, FilterContext context)
      throws InvalidProtocolBufferException;

  /** A filter for one stream, on its event loop. */
  HttpFilter create(C config, StreamInfo stream);
}
