/** Benchmarks of the config path: parse, validate, store. */
@NullMarked
package dev.bowline.bench.config;

import org.jspecify.annotations.NullMarked;
