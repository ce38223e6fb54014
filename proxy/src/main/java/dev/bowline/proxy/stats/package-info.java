/** Counters under Envoy's stat names, printed by the admin server in Envoy's formats. */
@NullMarked
package dev.bowline.proxy.stats;

import org.jspecify.annotations.NullMarked;
