/**
 * {@code envoy.filters.http.ext_authz} ({@code
 * envoy.extensions.filters.http.ext_authz.v3.ExtAuthz}): asks an external authorizer, over HTTP or
 * over gRPC ({@code envoy.service.auth.v3.Authorization/Check}) through one of the proxy's
 * clusters, whether a request may go on; denied requests get the authorizer's answer, failures
 * {@code status_on_error} unless {@code failure_mode_allow}. Both record the response flag {@code
 * UAEX}.
 */
@NullMarked
package dev.bowline.proxy.http.filter.extauthz;

import org.jspecify.annotations.NullMarked;
