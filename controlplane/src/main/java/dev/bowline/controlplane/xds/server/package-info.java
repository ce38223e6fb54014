@NullMarked
package dev.bowline.controlplane.xds.server;

import org.jspecify.annotations.NullMarked;
