@NullMarked
package dev.bowline.controlplane.model;

import org.jspecify.annotations.NullMarked;
