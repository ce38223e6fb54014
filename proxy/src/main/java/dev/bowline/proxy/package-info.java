/**
 * The proxy: {@link dev.bowline.proxy.Proxy} runs an Envoy v3 bootstrap, static resources and
 * everything an ADS server sends. It knows Envoy config only, nothing of Istio.
 */
@NullMarked
package dev.bowline.proxy;

import org.jspecify.annotations.NullMarked;
