/** End-to-end tests: the Weather mesh as real processes, driven from the outside. */
@NullMarked
package dev.bowline.e2e;

import org.jspecify.annotations.NullMarked;
