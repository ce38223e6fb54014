package dev.bowline.proxy.http.filter.wasm;

/**
 * A Wasm filter running a null-VM plugin: the plugin and the config it built.
 *
 * @param plugin the plugin named by {@code vm_config.code.local.inline_string}
 * @param rootId the plugin config's {@code root_id}
 * @param config the plugin's own config
 */
public record WasmConfig(NullVmPlugin<?> plugin, String rootId, Object config) {}
