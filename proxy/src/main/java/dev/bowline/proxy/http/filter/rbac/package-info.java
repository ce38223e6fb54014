/**
 * {@code envoy.filters.http.rbac} ({@code envoy.extensions.filters.http.rbac.v3.RBAC}, per route
 * {@code RBACPerRoute}): enforced rules answer 403 {@code RBAC: access denied}, shadow rules only
 * count and leave dynamic metadata for the access log.
 */
@NullMarked
package dev.bowline.proxy.http.filter.rbac;

import org.jspecify.annotations.NullMarked;
