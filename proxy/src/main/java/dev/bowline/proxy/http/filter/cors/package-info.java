/**
 * {@code envoy.filters.http.cors}: answers CORS preflights itself and adds the {@code
 * access-control-*} headers to responses, by the matched route's {@code CorsPolicy}.
 */
@NullMarked
package dev.bowline.proxy.http.filter.cors;

import org.jspecify.annotations.NullMarked;
