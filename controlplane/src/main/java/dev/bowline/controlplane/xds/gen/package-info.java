@NullMarked
package dev.bowline.controlplane.xds.gen;

import org.jspecify.annotations.NullMarked;
