/** RBAC benchmarks: the engine's per-request evaluation of istiod-shaped policies. */
@NullMarked
package dev.bowline.bench.rbac;

import org.jspecify.annotations.NullMarked;
