/**
 * {@code envoy.filters.network.wasm} for null-VM plugins only: istiod configures istio-proxy's TCP
 * stats ({@code envoy.wasm.stats}) as a network Wasm filter with {@code runtime:
 * envoy.wasm.runtime.null}; the plugins named there are built in.
 */
@NullMarked
package dev.bowline.proxy.network.wasm;

import org.jspecify.annotations.NullMarked;
