/**
 * Protobuf schemas of Istio's own Envoy extensions that no published Java artifact carries, built
 * as descriptors and shared by the control plane (which writes them) and the proxy (which reads
 * them).
 */
@NullMarked
package dev.bowline.api.proto;

import org.jspecify.annotations.NullMarked;
