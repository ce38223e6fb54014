package dev.bowline.api.model;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/** networking.istio.io ProxyConfig (v1beta1): per-workload proxy settings. */
public record ProxyConfig(
    @Nullable LabelSelector selector,
    @Nullable Integer concurrency,
    Map<String, String> environmentVariables,
    @Nullable ProxyImage image)
    implements Spec {
  public ProxyConfig {
    environmentVariables = Freeze.map(environmentVariables);
  }

  /** The proxy image type (default, debug, distroless). */
  public record ProxyImage(@Nullable String imageType) {}
}
