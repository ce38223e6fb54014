@NullMarked
package dev.bowline.controlplane.debug;

import org.jspecify.annotations.NullMarked;
