/** The admin HTTP server: Envoy's admin endpoints on the bootstrap's admin address. */
@NullMarked
package dev.bowline.proxy.admin;

import org.jspecify.annotations.NullMarked;
