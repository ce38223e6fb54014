/**
 * Cross-resource analysis, like {@code istioctl analyze}: analyzers look at a whole set of
 * resources and report {@link dev.bowline.config.analysis.AnalysisMessage}s with Istio's message
 * codes (IST0101 referenced resource not found, IST0109, IST0113, ...).
 */
@NullMarked
package dev.bowline.config.analysis;

import org.jspecify.annotations.NullMarked;
