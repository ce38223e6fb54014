/**
 * The agent's jobs beside the proxy that need nothing but the JDK, as pilot-agent's status server
 * (:15020) has them: the merged metrics endpoint ({@link
 * dev.bowline.agentstatus.MergedMetricsServer}) and the application's readiness probes ({@link
 * dev.bowline.agentstatus.AppHealthChecker}), with the {@link dev.bowline.agentstatus.Scheduler}
 * they and the certificate jobs of {@code dev.bowline.agent} run on.
 *
 * <p>Apart from {@code bowline-agent} so that a proxy process, which runs these jobs itself, does
 * not carry the CA client and Bouncy Castle on its class path (decision 0041).
 */
@NullMarked
package dev.bowline.agentstatus;

import org.jspecify.annotations.NullMarked;
