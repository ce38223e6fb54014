/**
 * The HTTP connection manager: HTTP/1.1 and h2c codecs, the per-request stream that runs the HTTP
 * filters, routes and forwards upstream, and Envoy-shaped local replies.
 */
@NullMarked
package dev.bowline.proxy.http;

import org.jspecify.annotations.NullMarked;
