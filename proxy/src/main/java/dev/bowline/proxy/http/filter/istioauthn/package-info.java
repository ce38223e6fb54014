/**
 * {@code istio_authn}: istio-proxy's authentication filter as istiod 1.16 configures it behind
 * {@code jwt_authn}. It never rejects; it turns the verified JWT payloads and the mTLS peer into
 * Istio's attributes ({@code request.auth.principal}, {@code request.auth.audiences}, {@code
 * request.auth.presenter}, {@code request.auth.claims}, {@code source.principal}, {@code
 * source.namespace}) in the dynamic metadata of filter {@code istio_authn}, where RBAC reads them.
 */
@NullMarked
package dev.bowline.proxy.http.filter.istioauthn;

import org.jspecify.annotations.NullMarked;
