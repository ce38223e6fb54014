/** The Wasm filter ({@code envoy.filters.http.wasm}) with built-in null-VM plugins only. */
@NullMarked
package dev.bowline.proxy.http.filter.wasm;

import org.jspecify.annotations.NullMarked;
