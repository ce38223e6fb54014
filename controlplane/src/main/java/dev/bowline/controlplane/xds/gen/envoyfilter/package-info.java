/**
 * EnvoyFilter patches applied to generated sidecar config, as istiod applies them: {@code
 * HTTP_FILTER} (ADD, INSERT_FIRST, INSERT_BEFORE, INSERT_AFTER, REPLACE, REMOVE, MERGE) in the HTTP
 * connection managers of listeners, and {@code HTTP_ROUTE} (MERGE, REMOVE) in RDS and inline route
 * configurations, matched by context, listener port/name, filter and sub-filter names, route
 * configuration name/port, virtual host name and route name/action.
 */
@NullMarked
package dev.bowline.controlplane.xds.gen.envoyfilter;

import org.jspecify.annotations.NullMarked;
