/**
 * JMH benchmarks of the CA. They live in the CA's package to reach its package-private signing
 * engines; run them with {@code bench/ca/run.sh}, which prints the table.
 */
@NullMarked
package dev.bowline.ca;

import org.jspecify.annotations.NullMarked;
