/**
 * The per-workload agent, as Istio's pilot-agent: gets the workload certificate from the mesh CA
 * (Istio's {@code IstioCertificateService}), rotates it before it expires, and serves it with the
 * trust bundle to the proxy over Envoy's Secret Discovery Service on a Unix domain socket.
 *
 * <p>Entry points: {@link dev.bowline.agent.CertificateManager} (key, CSR, rotation) and {@link
 * dev.bowline.agent.SdsServer} (SDS resources {@code default} and {@code ROOTCA}).
 */
@NullMarked
package dev.bowline.agent;

import org.jspecify.annotations.NullMarked;
