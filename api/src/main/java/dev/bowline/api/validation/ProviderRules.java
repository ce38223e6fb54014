package dev.bowline.api.validation;

import dev.bowline.api.mesh.ExtensionProvider;
import dev.bowline.api.mesh.MeshTypes;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * MeshConfig's typed sections: extension providers (one provider each, service and port where the
 * provider is remote), {@code defaultConfig.tracing}, CA certificates and discovery selectors.
 */
final class ProviderRules {
  private ProviderRules() {}

  private static final Set<String> OPERATORS = Set.of("In", "NotIn", "Exists", "DoesNotExist");

  static void provider(Report r, String at, ExtensionProvider p) {
    var set = p.set();
    if (set.isEmpty()) {
      r.error(at, "extension provider needs exactly one provider type");
      return;
    }
    if (set.size() > 1) {
      r.error(at, "only one provider type may be set, found " + String.join(", ", set.keySet()));
    }
    set.forEach((field, value) -> check(r, at + "." + field, value));
  }

  private static void check(Report r, String at, Object provider) {
    if (provider instanceof ExtensionProvider.Remote remote) {
      service(r, at + ".service", remote.service());
      if (remote.port() == null) {
        r.error(at + ".port", "port is required");
      } else {
        Checks.port(r, at + ".port", remote.port());
      }
    }
    switch (provider) {
      case ExtensionProvider.ExtAuthzHttp h -> {
        Checks.duration(r, at + ".timeout", h.timeout());
        status(r, at + ".statusOnError", h.statusOnError());
        if (h.pathPrefix() != null && !h.pathPrefix().startsWith("/")) {
          r.error(at + ".pathPrefix", "\"" + h.pathPrefix() + "\" must start with /");
        }
        headers(r, at + ".includeRequestHeadersInCheck", h.includeRequestHeadersInCheck());
        headers(r, at + ".headersToUpstreamOnAllow", h.headersToUpstreamOnAllow());
        headers(r, at + ".headersToDownstreamOnDeny", h.headersToDownstreamOnDeny());
        headers(r, at + ".headersToDownstreamOnAllow", h.headersToDownstreamOnAllow());
        h.includeAdditionalHeadersInCheck()
            .keySet()
            .forEach(k -> Checks.headerName(r, at + ".includeAdditionalHeadersInCheck." + k, k));
        if (!h.includeHeadersInCheck().isEmpty()) {
          r.warn(
              at + ".includeHeadersInCheck",
              "deprecated; use includeRequestHeadersInCheck instead");
        }
      }
      case ExtensionProvider.ExtAuthzGrpc g -> {
        Checks.duration(r, at + ".timeout", g.timeout());
        status(r, at + ".statusOnError", g.statusOnError());
      }
      case ExtensionProvider.Zipkin z -> {
        Checks.nonNegative(r, at + ".maxTagLength", z.maxTagLength());
        Checks.duration(r, at + ".timeout", z.timeout());
        if (z.path() != null && !z.path().startsWith("/")) {
          r.error(at + ".path", "\"" + z.path() + "\" must start with /");
        }
        if (z.traceContextOption() != null
            && !Set.of("USE_B3", "USE_B3_WITH_W3C_PROPAGATION").contains(z.traceContextOption())) {
          r.error(
              at + ".traceContextOption",
              "unknown value \""
                  + z.traceContextOption()
                  + "\"; must be one of USE_B3, USE_B3_WITH_W3C_PROPAGATION");
        }
      }
      case ExtensionProvider.Lightstep l ->
          Checks.nonNegative(r, at + ".maxTagLength", l.maxTagLength());
      case ExtensionProvider.Datadog d ->
          Checks.nonNegative(r, at + ".maxTagLength", d.maxTagLength());
      case ExtensionProvider.OpenCensusAgent o -> {
        Checks.nonNegative(r, at + ".maxTagLength", o.maxTagLength());
        for (int i = 0; i < o.context().size(); i++) {
          if (!Set.of("W3C_TRACE_CONTEXT", "GRPC_BIN", "CLOUD_TRACE_CONTEXT", "B3")
              .contains(o.context().get(i))) {
            r.error(
                at + ".context[" + i + "]", "unknown trace context \"" + o.context().get(i) + "\"");
          }
        }
      }
      case ExtensionProvider.Stackdriver s ->
          Checks.nonNegative(r, at + ".maxTagLength", s.maxTagLength());
      case ExtensionProvider.OpenTelemetryTracing o -> {
        Checks.nonNegative(r, at + ".maxTagLength", o.maxTagLength());
        if (o.http() != null && o.grpc() != null) {
          r.error(at, "only one of http and grpc may be set");
        }
        if (o.http() != null) {
          Checks.duration(r, at + ".http.timeout", o.http().timeout());
          if (o.http().path() != null && !o.http().path().startsWith("/")) {
            r.error(at + ".http.path", "\"" + o.http().path() + "\" must start with /");
          }
        }
        if (o.grpc() != null) {
          Checks.duration(r, at + ".grpc.timeout", o.grpc().timeout());
        }
      }
      case ExtensionProvider.FileAccessLog f -> {
        if (f.path() == null || f.path().isEmpty()) {
          r.error(at + ".path", "path is required");
        }
        logFormat(r, at + ".logFormat", f.logFormat());
      }
      case ExtensionProvider.OtelLog o -> logFormat(r, at + ".logFormat", o.logFormat());
      default -> {}
    }
  }

  /** A provider service: a host name, optionally {@code namespace/host}. */
  private static void service(Report r, String at, @Nullable String service) {
    if (service == null || service.isEmpty()) {
      r.error(at, "service is required");
      return;
    }
    String host = service;
    int slash = service.indexOf('/');
    if (slash >= 0) {
      String ns = service.substring(0, slash);
      host = service.substring(slash + 1);
      if (!Checks.isDns1123Label(ns)) {
        r.error(at, "\"" + ns + "\" is not a valid namespace");
        return;
      }
    }
    if (host.contains("*") || Checks.wildcardDomainProblem(host) != null) {
      r.error(at, "\"" + service + "\" is not a valid service host");
    }
  }

  private static void status(Report r, String at, @Nullable String status) {
    if (status == null) {
      return;
    }
    try {
      int code = Integer.parseInt(status);
      if (code < 100 || code > 599) {
        r.error(at, "status code " + code + " must be in the range 100..599");
      }
    } catch (NumberFormatException e) {
      r.error(at, "\"" + status + "\" is not an HTTP status code");
    }
  }

  private static void headers(Report r, String at, List<String> names) {
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).isEmpty()) {
        r.error(at + "[" + i + "]", "header name must not be empty");
      }
    }
  }

  private static void logFormat(Report r, String at, ExtensionProvider.@Nullable LogFormat format) {
    if (format != null && format.text() != null && !format.labels().isEmpty()) {
      r.error(at, "only one of text and labels may be set");
    }
  }

  static void tracing(Report r, String at, MeshTypes.Tracing t) {
    if (t.tracers().size() > 1) {
      r.error(at, "only one tracer may be set, found " + String.join(", ", t.tracers()));
    }
    if (t.zipkin() != null) {
      address(r, at + ".zipkin.address", t.zipkin().address());
    }
    if (t.lightstep() != null) {
      address(r, at + ".lightstep.address", t.lightstep().address());
    }
    if (t.datadog() != null) {
      address(r, at + ".datadog.address", t.datadog().address());
    }
    if (t.openCensusAgent() != null) {
      address(r, at + ".openCensusAgent.address", t.openCensusAgent().address());
    }
    if (t.sampling() != null && (t.sampling() < 0 || t.sampling() > 100)) {
      r.error(at + ".sampling", "sampling " + t.sampling() + " must be in the range 0..100");
    }
    Checks.nonNegative(r, at + ".maxPathTagLength", t.maxPathTagLength());
    t.customTags()
        .forEach(
            (name, tag) -> {
              String tat = at + ".customTags." + name;
              int set =
                  (tag.literal() != null ? 1 : 0)
                      + (tag.environment() != null ? 1 : 0)
                      + (tag.header() != null ? 1 : 0);
              if (set != 1) {
                r.error(tat, "exactly one of literal, environment and header must be set");
              }
              if (tag.environment() != null && empty(tag.environment().name())) {
                r.error(tat + ".environment.name", "name is required");
              }
              if (tag.header() != null && empty(tag.header().name())) {
                r.error(tat + ".header.name", "name is required");
              }
            });
    TrafficPolicyRules.tls(r, at + ".tlsSettings", t.tlsSettings());
  }

  private static void address(Report r, String at, @Nullable String address) {
    if (empty(address)) {
      r.error(at, "address is required");
    } else {
      MeshConfigRules.hostPort(r, at, address);
    }
  }

  static void certificate(Report r, String at, MeshTypes.CertificateData c) {
    boolean pem = !empty(c.pem());
    boolean url = !empty(c.spiffeBundleUrl());
    if (pem == url) {
      r.error(at, "exactly one of pem and spiffeBundleUrl must be set");
    }
    if (pem && !c.pem().contains("-----BEGIN CERTIFICATE-----")) {
      r.error(at + ".pem", "not a PEM certificate");
    }
    if (url) {
      try {
        URI u = new URI(c.spiffeBundleUrl());
        if (u.getHost() == null) {
          r.error(at + ".spiffeBundleUrl", "\"" + c.spiffeBundleUrl() + "\" needs a host");
        }
      } catch (URISyntaxException e) {
        r.error(at + ".spiffeBundleUrl", "\"" + c.spiffeBundleUrl() + "\" is not a URL");
      }
    }
    for (int i = 0; i < c.trustDomains().size(); i++) {
      if (empty(c.trustDomains().get(i))) {
        r.error(at + ".trustDomains[" + i + "]", "trust domain must not be empty");
      }
    }
  }

  static void selector(Report r, String at, MeshTypes.LabelSelector s) {
    Checks.labels(r, at + ".matchLabels", s.matchLabels());
    for (int i = 0; i < s.matchExpressions().size(); i++) {
      var e = s.matchExpressions().get(i);
      String eat = at + ".matchExpressions[" + i + "]";
      if (empty(e.key())) {
        r.error(eat + ".key", "key is required");
      }
      if (e.operator() == null || !OPERATORS.contains(e.operator())) {
        r.error(
            eat + ".operator",
            "\""
                + e.operator()
                + "\" is not a valid operator; must be one of In, NotIn, Exists, DoesNotExist");
      } else if (e.operator().endsWith("In") && e.values().isEmpty()) {
        r.error(eat + ".values", "values must be non-empty for operator " + e.operator());
      } else if (e.operator().contains("Exist") && !e.values().isEmpty()) {
        r.error(eat + ".values", "values must be empty for operator " + e.operator());
      }
    }
  }

  private static boolean empty(@Nullable String s) {
    return s == null || s.isEmpty();
  }
}
