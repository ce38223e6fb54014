@NullMarked
package dev.bowline.controlplane.push;

import org.jspecify.annotations.NullMarked;
