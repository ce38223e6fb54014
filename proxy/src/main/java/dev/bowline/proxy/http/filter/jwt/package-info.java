/**
 * {@code envoy.filters.http.jwt_authn}: verifies JSON Web Tokens against providers (issuer,
 * audiences, inline or remote JWKS fetched through a cluster and cached), by the requirement of the
 * first rule matching the path; answers 401 (403 for a disallowed audience) with Envoy's texts and
 * emits the verified payload as dynamic metadata.
 */
@NullMarked
package dev.bowline.proxy.http.filter.jwt;

import org.jspecify.annotations.NullMarked;
