/**
 * The xDS side of the proxy: one parser per resource type turning Envoy protos into the runtime
 * records of {@code dev.bowline.proxy.config}, and the ADS client that feeds them. Protos stop
 * here.
 */
@NullMarked
package dev.bowline.proxy.xds;

import org.jspecify.annotations.NullMarked;
