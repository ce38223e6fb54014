/** Reading an Envoy v3 bootstrap (YAML or JSON) into its proto. */
@NullMarked
package dev.bowline.proxy.bootstrap;

import org.jspecify.annotations.NullMarked;
