package dev.bowline.proxy.http.filter;

import dev.bowline.proxy.stats.Stats;
import java.time.Clock;

/**
 * What a proxy gives its filter factories: its node, its stats (filters may add metric families to
 * what the admin server exposes) and its clock.
 *
 * @param node the bootstrap's node
 * @param stats the proxy's stats
 * @param clock wall time for timestamps
 */
public record FilterEnvironment(NodeInfo node, Stats stats, Clock clock) {}
