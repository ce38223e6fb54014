/**
 * AuthorizationPolicy to Envoy RBAC, as istiod 1.16's {@code security/authz/builder} and {@code
 * model}: one rule becomes one RBAC policy {@code ns[NS]-policy[NAME]-rule[i]}; the policies of a
 * workload become the HTTP filters (inbound HTTP chains, gateways) or network filters (TCP chains)
 * CUSTOM, AUDIT (LOG), DENY, ALLOW.
 */
@NullMarked
package dev.bowline.controlplane.xds.gen.authz;

import org.jspecify.annotations.NullMarked;
