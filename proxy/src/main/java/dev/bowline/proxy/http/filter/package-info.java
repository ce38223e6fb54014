/**
 * The HTTP filter framework: one package per filter, each with an immutable config built from its
 * proto by a factory registered by type URL. The router is always last.
 */
@NullMarked
package dev.bowline.proxy.http.filter;

import org.jspecify.annotations.NullMarked;
