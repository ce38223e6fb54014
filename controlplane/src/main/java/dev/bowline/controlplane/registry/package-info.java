@NullMarked
package dev.bowline.controlplane.registry;

import org.jspecify.annotations.NullMarked;
