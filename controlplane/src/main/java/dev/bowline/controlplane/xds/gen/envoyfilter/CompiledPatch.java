package dev.bowline.controlplane.xds.gen.envoyfilter;

import com.google.protobuf.Message;
import dev.bowline.api.model.EnvoyFilter.ApplyTo;
import dev.bowline.api.model.EnvoyFilter.EnvoyConfigObjectMatch;
import dev.bowline.api.model.EnvoyFilter.Patch.Operation;
import dev.bowline.api.model.EnvoyFilter.PatchContext;
import org.jspecify.annotations.Nullable;

/**
 * One EnvoyFilter config patch ready to apply: its value parsed as the Envoy type {@code applyTo}
 * names ({@code null} for REMOVE).
 *
 * @param source the EnvoyFilter, {@code namespace/name}
 * @param index the patch's index in {@code spec.configPatches}
 */
record CompiledPatch(
    String source,
    int index,
    ApplyTo applyTo,
    Operation operation,
    @Nullable EnvoyConfigObjectMatch match,
    @Nullable Message value) {

  boolean contextMatches(PatchContext context) {
    PatchContext c = match == null ? null : match.context();
    return c == null || c == PatchContext.ANY || c == context;
  }

  <T extends Message> T value(Class<T> type) {
    return type.cast(java.util.Objects.requireNonNull(value, "value"));
  }
}
