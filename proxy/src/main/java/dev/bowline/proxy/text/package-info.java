/**
 * Text the proxy writes by hand on its hot paths (JSON strings in access logs and span exports).
 */
@NullMarked
package dev.bowline.proxy.text;

import org.jspecify.annotations.NullMarked;
