/** istio-proxy's HTTP metadata exchange: peers learn each other's workload from headers. */
@NullMarked
package dev.bowline.proxy.http.filter.metadataexchange;

import org.jspecify.annotations.NullMarked;
