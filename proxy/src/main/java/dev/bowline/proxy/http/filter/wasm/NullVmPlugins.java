package dev.bowline.proxy.http.filter.wasm;

import io.envoyproxy.envoy.extensions.wasm.v3.PluginConfig;
import io.envoyproxy.envoy.extensions.wasm.v3.VmConfig;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Built-in plugins by name, and the one a Wasm filter's {@code config} names: the HTTP and the
 * network Wasm factories both run null-VM plugins only ({@code runtime: envoy.wasm.runtime.null}
 * with {@code code.local.inline_string} naming the plugin), or take one of Istio's own compiled
 * modules as the built-in plugin of that name.
 *
 * @param <P> the plugin type
 */
public final class NullVmPlugins<P> {
  private static final String NULL_RUNTIME = "envoy.wasm.runtime.null";

  private final Map<String, P> byName;
  private final Map<String, String> istioModules;
  private final String kind;
  private final String modules;

  /**
   * {@code plugins} by {@code name} (two with the same name are an error); {@code istioModules}
   * maps Istio's module files to plugin names; {@code kind} ("null-VM") and {@code modules} (what
   * the module files are) go into error messages.
   */
  public NullVmPlugins(
      List<P> plugins,
      Function<P, String> name,
      Map<String, String> istioModules,
      String kind,
      String modules) {
    Map<String, P> m = new TreeMap<>();
    for (P p : plugins) {
      if (m.put(name.apply(p), p) != null) {
        throw new IllegalArgumentException("two null-VM plugins named " + name.apply(p));
      }
    }
    this.byName = Map.copyOf(m);
    this.istioModules = Map.copyOf(istioModules);
    this.kind = kind;
    this.modules = modules;
  }

  /**
   * The plugin {@code config} (the filter's {@code config} field) names.
   *
   * @throws IllegalArgumentException naming the field, if it names none of these plugins
   */
  public P named(PluginConfig config) {
    if (!config.hasVmConfig()) {
      throw new IllegalArgumentException("config.vm_config: is required (only the null VM runs)");
    }
    String name = pluginName(config.getVmConfig());
    P plugin = byName.get(name);
    if (plugin == null) {
      throw new IllegalArgumentException(
          "config.vm_config.code.local.inline_string: unknown "
              + kind
              + " plugin '"
              + name
              + "' (known: "
              + String.join(", ", new TreeMap<>(byName).keySet())
              + ")");
    }
    return plugin;
  }

  private String pluginName(VmConfig vm) {
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
    String module = local.hasFilename() ? istioModules.get(local.getFilename()) : null;
    if (module == null) {
      throw new IllegalArgumentException(
          "config.vm_config.runtime: '"
              + vm.getRuntime()
              + "' is not supported (only "
              + NULL_RUNTIME
              + " and "
              + modules
              + ")");
    }
    return module;
  }
}
