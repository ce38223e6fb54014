/**
 * Envoy's file access logs: format strings ({@code %START_TIME%}, {@code %REQ(X)%}, ...) as text or
 * JSON, written off the event loops in batches.
 */
@NullMarked
package dev.bowline.proxy.accesslog;

import org.jspecify.annotations.NullMarked;
