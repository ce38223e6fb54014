/** Benchmarks of the proxy's telemetry filters (issue #10). */
@NullMarked
package dev.bowline.bench.telemetry;

import org.jspecify.annotations.NullMarked;
