/**
 * {@code envoy.filters.network.tcp_proxy}: bytes both ways between a downstream and an upstream.
 */
@NullMarked
package dev.bowline.proxy.tcp;

import org.jspecify.annotations.NullMarked;
