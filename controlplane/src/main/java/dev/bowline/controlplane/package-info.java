@NullMarked
package dev.bowline.controlplane;

import org.jspecify.annotations.NullMarked;
