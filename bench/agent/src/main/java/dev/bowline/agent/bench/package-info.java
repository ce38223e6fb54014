/** Measurements of the agent (not JMH: one-shot startup latencies). */
@NullMarked
package dev.bowline.agent.bench;

import org.jspecify.annotations.NullMarked;
