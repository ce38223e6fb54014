/**
 * Envoy's role-based access control engine ({@code envoy.config.rbac.v3.RBAC}), shared by the HTTP
 * and the network RBAC filters: policies of permissions and principals, compiled once from the
 * proto into {@link dev.bowline.proxy.rbac.Matcher} trees and evaluated per request or connection
 * against an {@link dev.bowline.proxy.rbac.RbacInput}.
 */
@NullMarked
package dev.bowline.proxy.rbac;

import org.jspecify.annotations.NullMarked;
