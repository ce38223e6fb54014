package dev.bowline.controlplane.xds.gen.telemetry;

import dev.bowline.api.mesh.ExtensionProvider;
import dev.bowline.api.model.Telemetry;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One side's tracing as the Telemetry levels leave it (istiod's {@code TracingSpec}): the provider
 * (the first one named; istiod supports one), the sampling percentage if any level set one (else
 * MeshConfig's {@code defaultConfig.tracing.sampling}), whether span reporting is off, and the
 * custom tags merged level by level.
 *
 * @param provider the extension provider spans go to; null disables tracing on this side
 * @param randomSamplingPercentage {@code randomSamplingPercentage}, null when no level set it
 * @param disabled {@code disableSpanReporting}, or no provider
 * @param customTags {@code customTags} by tag name
 */
public record TracingSpec(
    @Nullable ExtensionProvider provider,
    @Nullable Double randomSamplingPercentage,
    boolean disabled,
    Map<String, Telemetry.Tracing.CustomTag> customTags) {
  public TracingSpec {
    customTags = Map.copyOf(customTags);
  }
}
