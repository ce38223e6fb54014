/**
 * Istio configuration as immutable values: {@link dev.bowline.api.Resource} (metadata + a typed
 * {@link dev.bowline.api.model.Spec}), the {@link dev.bowline.api.Kind}s Bowline serves, the
 * YAML/JSON {@link dev.bowline.api.ResourceCodec}, and {@link dev.bowline.api.Validation} results
 * whose {@link dev.bowline.api.Message}s name the resource and the field.
 */
@NullMarked
package dev.bowline.api;

import org.jspecify.annotations.NullMarked;
