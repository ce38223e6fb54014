/**
 * {@code envoy.filters.network.ext_authz}: asks a gRPC authorizer ({@code
 * envoy.service.auth.v3.Authorization/Check}) whether a connection may go on, on its first bytes.
 */
@NullMarked
package dev.bowline.proxy.network.extauthz;

import org.jspecify.annotations.NullMarked;
