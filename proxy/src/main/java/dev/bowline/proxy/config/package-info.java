/**
 * The proxy's runtime configuration: immutable records built from Envoy protos by the parsers in
 * {@code dev.bowline.proxy.xds}. Nothing here imports an Envoy type; a whole configuration is one
 * {@link dev.bowline.proxy.config.ProxySnapshot}, published by swapping one reference.
 */
@NullMarked
package dev.bowline.proxy.config;

import org.jspecify.annotations.NullMarked;
