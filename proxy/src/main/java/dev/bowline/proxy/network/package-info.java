/**
 * Non-terminal network filters (Envoy read filters) that sit before a chain's HTTP connection
 * manager or TCP proxy, e.g. {@code envoy.filters.network.rbac}.
 */
@NullMarked
package dev.bowline.proxy.network;

import org.jspecify.annotations.NullMarked;
