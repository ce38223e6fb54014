/** Binding listeners, choosing a filter chain per connection, and draining removed listeners. */
@NullMarked
package dev.bowline.proxy.listener;

import org.jspecify.annotations.NullMarked;
