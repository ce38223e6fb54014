/**
 * The upstream side, one {@link dev.bowline.proxy.upstream.Worker} per event loop: load balancing
 * state and HTTP/1.1 connection pools live on their loop and are touched by nothing else, so the
 * request path takes no lock (Envoy's worker model).
 */
@NullMarked
package dev.bowline.proxy.upstream;

import org.jspecify.annotations.NullMarked;
