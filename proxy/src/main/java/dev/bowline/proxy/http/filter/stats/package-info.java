/** istio-proxy's stats filter: Istio's standard metrics, client and server side. */
@NullMarked
package dev.bowline.proxy.http.filter.stats;

import org.jspecify.annotations.NullMarked;
