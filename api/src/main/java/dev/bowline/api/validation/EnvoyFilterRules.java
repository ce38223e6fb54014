package dev.bowline.api.validation;

import dev.bowline.api.model.EnvoyFilter;
import dev.bowline.api.model.EnvoyFilter.ApplyTo;
import dev.bowline.api.model.EnvoyFilter.Patch.Operation;
import java.util.EnumSet;
import java.util.Set;

/** EnvoyFilter: applyTo vs match object, operations per object class, patch values. */
final class EnvoyFilterRules {
  private EnvoyFilterRules() {}

  private static final Set<ApplyTo> LISTENER_CLASS =
      EnumSet.of(
          ApplyTo.LISTENER,
          ApplyTo.FILTER_CHAIN,
          ApplyTo.NETWORK_FILTER,
          ApplyTo.HTTP_FILTER,
          ApplyTo.LISTENER_FILTER);
  private static final Set<ApplyTo> ROUTE_CLASS =
      EnumSet.of(ApplyTo.ROUTE_CONFIGURATION, ApplyTo.VIRTUAL_HOST, ApplyTo.HTTP_ROUTE);
  private static final Set<ApplyTo> INSERTABLE =
      EnumSet.of(
          ApplyTo.NETWORK_FILTER, ApplyTo.HTTP_FILTER, ApplyTo.LISTENER_FILTER, ApplyTo.HTTP_ROUTE);
  private static final Set<ApplyTo> REPLACEABLE =
      EnumSet.of(
          ApplyTo.NETWORK_FILTER,
          ApplyTo.HTTP_FILTER,
          ApplyTo.LISTENER_FILTER,
          ApplyTo.FILTER_CHAIN);
  private static final Set<String> DEPRECATED_FILTER_NAMES =
      Set.of(
          "envoy.http_connection_manager",
          "envoy.router",
          "envoy.cors",
          "envoy.fault",
          "envoy.lua",
          "envoy.tcp_proxy",
          "envoy.ext_authz");

  static void check(Report r, EnvoyFilter ef) {
    if (ef.workloadSelector() != null && !ef.targetRefs().isEmpty()) {
      r.error("spec", "only one of workloadSelector and targetRefs may be set");
    }
    if (ef.workloadSelector() != null) {
      Checks.labels(r, "spec.workloadSelector.labels", ef.workloadSelector().labels());
    }
    if (ef.configPatches().isEmpty()) {
      r.warn("spec.configPatches", "an EnvoyFilter without configPatches does nothing");
    }
    for (int i = 0; i < ef.configPatches().size(); i++) {
      var cp = ef.configPatches().get(i);
      String at = "spec.configPatches[" + i + "]";
      ApplyTo applyTo = cp.applyTo();
      if (applyTo == null || applyTo == ApplyTo.INVALID) {
        r.error(at + ".applyTo", "applyTo is required");
      }
      if (cp.patch() == null) {
        r.error(at + ".patch", "patch is required");
        continue;
      }
      Operation op = cp.patch().operation();
      if (op == null || op == Operation.INVALID) {
        r.error(at + ".patch.operation", "patch operation is required");
      } else if (applyTo != null) {
        boolean insert =
            op == Operation.INSERT_BEFORE
                || op == Operation.INSERT_AFTER
                || op == Operation.INSERT_FIRST;
        if (insert && !INSERTABLE.contains(applyTo)) {
          r.error(
              at + ".patch.operation",
              op + " applies only to HTTP_FILTER, NETWORK_FILTER, LISTENER_FILTER and HTTP_ROUTE");
        }
        if (op == Operation.REPLACE && !REPLACEABLE.contains(applyTo)) {
          r.error(
              at + ".patch.operation",
              "REPLACE applies only to HTTP_FILTER, NETWORK_FILTER, LISTENER_FILTER and"
                  + " FILTER_CHAIN");
        }
        if (applyTo == ApplyTo.ROUTE_CONFIGURATION && op != Operation.MERGE) {
          r.warn(at + ".patch.operation", "only MERGE applies to ROUTE_CONFIGURATION; ignored");
        }
        if (applyTo == ApplyTo.EXTENSION_CONFIG && op != Operation.ADD) {
          r.warn(at + ".patch.operation", "only ADD applies to EXTENSION_CONFIG; ignored");
        }
        if (op == Operation.REMOVE && !cp.patch().value().isEmpty()) {
          r.error(at + ".patch.value", "REMOVE takes no value");
        }
        if (op != Operation.REMOVE && cp.patch().value().isEmpty()) {
          r.error(at + ".patch.value", "patch value is required for " + op);
        }
      }
      if (cp.patch().filterClass() != null
          && cp.patch().filterClass() != EnvoyFilter.Patch.FilterClass.UNSPECIFIED
          && applyTo != ApplyTo.HTTP_FILTER) {
        r.error(at + ".patch.filterClass", "filterClass applies only to HTTP_FILTER");
      }
      Object name = cp.patch().value().get("name");
      if (name instanceof String n && DEPRECATED_FILTER_NAMES.contains(n)) {
        r.warn(
            at + ".patch.value.name",
            "filter name \"" + n + "\" is deprecated; use its envoy.filters.* name");
      }
      var match = cp.match();
      if (match == null || applyTo == null) {
        continue;
      }
      if (match.listener() != null && !LISTENER_CLASS.contains(applyTo)) {
        r.error(at + ".match.listener", "a listener match cannot be used with applyTo " + applyTo);
      }
      if (match.routeConfiguration() != null && !ROUTE_CLASS.contains(applyTo)) {
        r.error(
            at + ".match.routeConfiguration",
            "a routeConfiguration match cannot be used with applyTo " + applyTo);
      }
      if (match.cluster() != null && applyTo != ApplyTo.CLUSTER) {
        r.error(at + ".match.cluster", "a cluster match cannot be used with applyTo " + applyTo);
      }
      if (match.proxy() != null) {
        Checks.regex(r, at + ".match.proxy.proxyVersion", match.proxy().proxyVersion());
      }
      var l = match.listener();
      if (l != null) {
        Checks.port(r, at + ".match.listener.portNumber", l.portNumber());
        var fc = l.filterChain();
        if (fc != null) {
          Checks.port(r, at + ".match.listener.filterChain.destinationPort", fc.destinationPort());
          if (fc.filter() != null && fc.filter().subFilter() != null) {
            if (applyTo != ApplyTo.HTTP_FILTER) {
              r.error(
                  at + ".match.listener.filterChain.filter.subFilter",
                  "a subFilter match needs applyTo HTTP_FILTER");
            }
            if (!"envoy.filters.network.http_connection_manager".equals(fc.filter().name())) {
              r.error(
                  at + ".match.listener.filterChain.filter.name",
                  "a subFilter match needs filter name envoy.filters.network.http_connection_manager");
            }
          }
        }
      }
      if (match.routeConfiguration() != null) {
        Checks.port(
            r,
            at + ".match.routeConfiguration.portNumber",
            match.routeConfiguration().portNumber());
      }
      if (match.cluster() != null) {
        Checks.port(r, at + ".match.cluster.portNumber", match.cluster().portNumber());
      }
    }
  }
}
