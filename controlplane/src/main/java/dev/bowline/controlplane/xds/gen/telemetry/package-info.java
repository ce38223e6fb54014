/**
 * Istio's telemetry in xDS: the metadata exchange and stats filters istiod puts in sidecar HTTP
 * connection managers, access logs, and the Telemetry API mapped onto them.
 */
@NullMarked
package dev.bowline.controlplane.xds.gen.telemetry;

import org.jspecify.annotations.NullMarked;
