package dev.bowline.proxy.network.wasm;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.network.ReadFilter;

/**
 * An extension compiled into the proxy and reached through the network Wasm filter's null VM, as
 * istio-proxy ships {@code envoy.wasm.stats} for TCP.
 */
public interface NetworkNullVmPlugin {
  /** The name in {@code vm_config.code.local.inline_string}. */
  String name();

  /**
   * The network filter of the plugin's {@code root_id} and {@code configuration}.
   *
   * @throws IllegalArgumentException naming the bad field, relative to {@code configuration}
   */
  ReadFilter parseNetwork(String rootId, Any configuration, FilterContext context)
      throws InvalidProtocolBufferException;
}
