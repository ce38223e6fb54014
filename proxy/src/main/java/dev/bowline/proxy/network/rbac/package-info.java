/**
 * {@code envoy.filters.network.rbac} ({@code envoy.extensions.filters.network.rbac.v3.RBAC}):
 * evaluated on a connection's first bytes; a denied connection is closed.
 */
@NullMarked
package dev.bowline.proxy.network.rbac;

import org.jspecify.annotations.NullMarked;
