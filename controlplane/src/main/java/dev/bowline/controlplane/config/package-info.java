/**
 * Istio config from the config store into the control plane: {@link
 * dev.bowline.controlplane.config.IstioConfigInputs} indexes a config snapshot as the {@code
 * ConfigInputs} generators query, and {@link dev.bowline.controlplane.config.ConfigFeed} watches
 * directories and pushes every valid change.
 */
@NullMarked
package dev.bowline.controlplane.config;

import org.jspecify.annotations.NullMarked;
