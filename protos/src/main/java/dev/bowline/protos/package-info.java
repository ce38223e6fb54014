/**
 * Protobuf schemas of Envoy extension configs that no published Java artifact carries
 * (istio-proxy's own filters), built as descriptors and shared by the control plane, which writes
 * them, and the proxy, which reads them. Protobuf only, no Istio model: the proxy may depend on
 * this package.
 */
@NullMarked
package dev.bowline.protos;

import org.jspecify.annotations.NullMarked;
