package dev.bowline.api.model;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** extensions.istio.io WasmPlugin (v1alpha1): a Wasm extension for selected proxies. */
public record WasmPlugin(
    @Nullable LabelSelector selector,
    @Nullable PolicyTargetReference targetRef,
    List<PolicyTargetReference> targetRefs,
    @Nullable String url,
    @Nullable String sha256,
    @Nullable PullPolicy imagePullPolicy,
    @Nullable String imagePullSecret,
    @Nullable String verificationKey,
    Map<String, Object> pluginConfig,
    @Nullable String pluginName,
    @Nullable PluginPhase phase,
    @Nullable Integer priority,
    @Nullable FailStrategy failStrategy,
    @Nullable VmConfig vmConfig,
    List<TrafficSelector> match,
    @Nullable PluginType type)
    implements Spec {
  public WasmPlugin {
    targetRefs = Freeze.list(targetRefs);
    pluginConfig = Freeze.struct(pluginConfig);
    match = Freeze.list(match);
  }

  /** When to pull the module. */
  public enum PullPolicy {
    UNSPECIFIED_POLICY,
    IfNotPresent,
    Always
  }

  /** Where in the filter chain the plugin goes. */
  public enum PluginPhase {
    UNSPECIFIED_PHASE,
    AUTHN,
    AUTHZ,
    STATS
  }

  /** What happens when the plugin fails. */
  public enum FailStrategy {
    FAIL_CLOSE,
    FAIL_OPEN,
    FAIL_RELOAD
  }

  /** HTTP or network filter. */
  public enum PluginType {
    UNSPECIFIED_PLUGIN_TYPE,
    HTTP,
    NETWORK
  }

  /** The Wasm VM's environment. */
  public record VmConfig(List<EnvVar> env) {
    public VmConfig {
      env = Freeze.list(env);
    }
  }

  /** An environment variable: inline value or from the host. */
  public record EnvVar(
      @Nullable String name, @Nullable ValueSource valueFrom, @Nullable String value) {

    /** Where the value comes from. */
    public enum ValueSource {
      INLINE,
      HOST
    }
  }

  /** Traffic the plugin applies to. */
  public record TrafficSelector(@Nullable String mode, List<PortSelector> ports) {
    public TrafficSelector {
      ports = Freeze.list(ports);
    }
  }
}
