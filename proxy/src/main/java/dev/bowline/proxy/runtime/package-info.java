/** What every connection of a running proxy shares: current config, workers, stats, filters. */
@NullMarked
package dev.bowline.proxy.runtime;

import org.jspecify.annotations.NullMarked;
