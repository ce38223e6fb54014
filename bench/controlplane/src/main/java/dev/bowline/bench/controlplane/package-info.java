/** The control plane's macro benchmark: xDS load from many simulated proxies, in two processes. */
@NullMarked
package dev.bowline.bench.controlplane;

import org.jspecify.annotations.NullMarked;
