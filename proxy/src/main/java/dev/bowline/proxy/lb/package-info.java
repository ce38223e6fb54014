/**
 * Load-balancing building blocks that hold no per-request state: Envoy's xxHash64, the ring-hash
 * ring and the Maglev table (built once per host set, looked up lock-free), and request hashing
 * from a route's {@code hash_policy}.
 */
@NullMarked
package dev.bowline.proxy.lb;

import org.jspecify.annotations.NullMarked;
