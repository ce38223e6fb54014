/**
 * The config store: Istio resources keyed by (kind, namespace, name) with resource versions, fed by
 * a watched directory or the in-memory API, where an invalid change never replaces a valid one.
 */
@NullMarked
package dev.bowline.config;

import org.jspecify.annotations.NullMarked;
