/** Proxy benchmarks: the HTTP/1.1 codec work of one proxied exchange. */
@NullMarked
package dev.bowline.bench.proxy;

import org.jspecify.annotations.NullMarked;
