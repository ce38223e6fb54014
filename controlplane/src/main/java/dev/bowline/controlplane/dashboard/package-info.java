/**
 * The mesh dashboard served by the control plane (decision 0020): a scraper of the proxies' Istio
 * standard metrics, the live service graph computed from them, per-service and per-workload details
 * with the Istio config that applies, and the web page (plain ES modules and SVG, from classpath
 * resources).
 */
@NullMarked
package dev.bowline.controlplane.dashboard;

import org.jspecify.annotations.NullMarked;
