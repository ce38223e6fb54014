/** {@code envoy.filters.http.router}: the terminal HTTP filter that forwards upstream. */
@NullMarked
package dev.bowline.proxy.http.filter.router;

import org.jspecify.annotations.NullMarked;
