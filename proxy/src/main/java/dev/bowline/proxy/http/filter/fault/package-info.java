/**
 * {@code envoy.filters.http.fault}: fixed delays and aborts (HTTP or gRPC status) for a share of
 * requests, from the filter's config or the matched route's {@code typed_per_filter_config}.
 */
@NullMarked
package dev.bowline.proxy.http.filter.fault;

import org.jspecify.annotations.NullMarked;
