/**
 * {@code bowline proxy}: the command ({@link dev.bowline.proxycli.ProxyCommand}) and the entry
 * point of a proxy process ({@link dev.bowline.proxycli.ProxyMain}), in a module of its own so that
 * a proxy's class path holds only what a proxy runs (decision 0038).
 */
@NullMarked
package dev.bowline.proxycli;

import org.jspecify.annotations.NullMarked;
