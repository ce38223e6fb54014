/**
 * {@code envoy.filters.http.local_ratelimit}: a token bucket shared by all event loops, per filter
 * or per route ({@code typed_per_filter_config}); limited requests get 429 (or the configured
 * status) and the RL flag.
 */
@NullMarked
package dev.bowline.proxy.http.filter.localratelimit;

import org.jspecify.annotations.NullMarked;
