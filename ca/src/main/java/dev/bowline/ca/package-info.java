/**
 * The mesh CA: keeps the root (self-signed in a directory, or plugged in from Istio's {@code
 * cacerts}), signs workload certificates for SPIFFE identities, rotates roots with overlap, and
 * serves Istio's {@code istio.v1.auth.IstioCertificateService} over gRPC with TLS.
 *
 * <p>Entry points: {@link dev.bowline.ca.CertificateAuthority} (signing, trust bundle, rotation)
 * and {@link dev.bowline.ca.CaServer} (the gRPC endpoint, :15012 by default).
 */
@NullMarked
package dev.bowline.ca;

import org.jspecify.annotations.NullMarked;
