package dev.bowline.api.validation;

import dev.bowline.api.model.Destination;
import dev.bowline.api.model.Percent;
import dev.bowline.api.model.StringMatch;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.model.VirtualService.HTTPRoute;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** VirtualService: hosts, gateways, HTTP/TLS/TCP routes (istio pkg/config/validation behaviour). */
final class VirtualServiceRules {
  private VirtualServiceRules() {}

  private static final Set<String> RETRY_ON =
      Set.of(
          "5xx",
          "gateway-error",
          "reset",
          "reset-before-request",
          "connect-failure",
          "envoy-ratelimited",
          "retriable-4xx",
          "refused-stream",
          "retriable-status-codes",
          "retriable-headers",
          "http3-post-connect-failure",
          "cancelled",
          "deadline-exceeded",
          "internal",
          "resource-exhausted",
          "unavailable");
  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");
  private static final Pattern GATEWAY_NAME =
      Pattern.compile(
          "([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  static void check(Report r, VirtualService vs) {
    boolean delegate = vs.hosts().isEmpty();
    if (delegate) {
      if (!vs.gateways().isEmpty()) {
        r.error("spec.gateways", "a delegate virtual service (no hosts) must not have gateways");
      }
      if (!vs.tls().isEmpty() || !vs.tcp().isEmpty()) {
        r.error("spec", "a delegate virtual service (no hosts) must not have tls or tcp routes");
      }
    }
    boolean meshBound = vs.gateways().isEmpty() || vs.gateways().contains("mesh");
    for (int i = 0; i < vs.hosts().size(); i++) {
      String host = vs.hosts().get(i);
      String at = "spec.hosts[" + i + "]";
      if (host.equals("*") && meshBound) {
        r.error(
            at, "wildcard host * is not allowed for virtual services bound to the mesh gateway");
      } else if (host.contains("/")) {
        r.error(at, "host \"" + host + "\" must not contain a namespace");
      } else if (!Checks.isIp(host)) {
        Checks.wildcardDomain(r, at, host);
      }
    }
    gateways(r, "spec.gateways", vs.gateways());
    if (vs.http().isEmpty() && vs.tls().isEmpty() && vs.tcp().isEmpty()) {
      r.error("spec", "http, tcp or tls must be provided in virtual service");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < vs.http().size(); i++) {
      HTTPRoute route = vs.http().get(i);
      String at = "spec.http[" + i + "]";
      if (route.name() != null && !route.name().isEmpty() && !names.add(route.name())) {
        r.error(at + ".name", "route name \"" + route.name() + "\" is not unique");
      }
      httpRoute(r, at, route, delegate);
    }
    for (int i = 0; i < vs.tls().size(); i++) {
      var tls = vs.tls().get(i);
      String at = "spec.tls[" + i + "]";
      if (tls.match().isEmpty()) {
        r.error(at + ".match", "TLS route must have at least one match condition");
      }
      for (int j = 0; j < tls.match().size(); j++) {
        var m = tls.match().get(j);
        String mat = at + ".match[" + j + "]";
        if (m.sniHosts().isEmpty()) {
          r.error(mat + ".sniHosts", "TLS match must have at least one SNI host");
        }
        for (int k = 0; k < m.sniHosts().size(); k++) {
          String sni = m.sniHosts().get(k);
          String sat = mat + ".sniHosts[" + k + "]";
          String problem = Checks.wildcardDomainProblem(sni);
          if (problem != null) {
            r.error(sat, problem);
          } else if (!vs.hosts().isEmpty() && vs.hosts().stream().noneMatch(h -> covers(h, sni))) {
            r.error(
                sat,
                "SNI host \"" + sni + "\" is not a subset of any of the virtual service's hosts");
          }
        }
        subnets(r, mat + ".destinationSubnets", m.destinationSubnets());
        Checks.port(r, mat + ".port", m.port());
        gateways(r, mat + ".gateways", m.gateways());
        Checks.labels(r, mat + ".sourceLabels", m.sourceLabels());
      }
      routeDestinations(
          r,
          at + ".route",
          tls.route().stream().map(d -> new Weighted(d.destination(), d.weight())).toList());
    }
    for (int i = 0; i < vs.tcp().size(); i++) {
      var tcp = vs.tcp().get(i);
      String at = "spec.tcp[" + i + "]";
      for (int j = 0; j < tcp.match().size(); j++) {
        var m = tcp.match().get(j);
        String mat = at + ".match[" + j + "]";
        subnets(r, mat + ".destinationSubnets", m.destinationSubnets());
        if (m.sourceSubnet() != null) {
          Checks.ipOrCidr(r, mat + ".sourceSubnet", m.sourceSubnet());
        }
        Checks.port(r, mat + ".port", m.port());
        gateways(r, mat + ".gateways", m.gateways());
        Checks.labels(r, mat + ".sourceLabels", m.sourceLabels());
      }
      routeDestinations(
          r,
          at + ".route",
          tcp.route().stream().map(d -> new Weighted(d.destination(), d.weight())).toList());
    }
    Checks.exportTo(r, "spec.exportTo", vs.exportTo());
  }

  /** True when host pattern {@code host} covers {@code sni} (both may be wildcards). */
  static boolean covers(String host, String sni) {
    if (host.equals("*") || host.equalsIgnoreCase(sni)) {
      return true;
    }
    if (host.startsWith("*.")) {
      String suffix = host.substring(1);
      return sni.endsWith(suffix) && sni.length() > suffix.length();
    }
    return false;
  }

  private static void gateways(Report r, String path, List<String> gateways) {
    for (int i = 0; i < gateways.size(); i++) {
      String g = gateways.get(i);
      if (!g.equals("mesh") && !GATEWAY_NAME.matcher(g).matches()) {
        r.error(path + "[" + i + "]", "invalid gateway name \"" + g + "\"");
      }
    }
  }

  private static void subnets(Report r, String path, List<String> subnets) {
    for (int i = 0; i < subnets.size(); i++) {
      Checks.ipOrCidr(r, path + "[" + i + "]", subnets.get(i));
    }
  }

  private static void httpRoute(Report r, String at, HTTPRoute route, boolean inDelegate) {
    boolean hasRoute = !route.route().isEmpty();
    boolean redirect = route.redirect() != null;
    boolean direct = route.directResponse() != null;
    boolean delegate = route.delegate() != null;
    int actions = (hasRoute ? 1 : 0) + (redirect ? 1 : 0) + (direct ? 1 : 0) + (delegate ? 1 : 0);
    if (actions == 0) {
      r.error(at, "HTTP route must have one of route, redirect, directResponse or delegate");
    } else if (actions > 1) {
      r.error(at, "HTTP route must have only one of route, redirect, directResponse or delegate");
    }
    if (delegate) {
      if (inDelegate) {
        r.error(at + ".delegate", "a delegate virtual service cannot delegate again");
      }
      if (route.delegate().name() == null || route.delegate().name().isEmpty()) {
        r.error(at + ".delegate.name", "delegate name is required");
      }
      if (route.delegate().namespace() != null
          && !Checks.isDns1123Label(route.delegate().namespace())) {
        r.error(
            at + ".delegate.namespace",
            "\"" + route.delegate().namespace() + "\" is not a valid namespace");
      }
    }
    if (route.rewrite() != null) {
      var rw = route.rewrite();
      if (redirect) {
        r.error(at + ".rewrite", "rewrite may not be used together with redirect");
      }
      if (rw.uri() != null && rw.uriRegexRewrite() != null) {
        r.error(at + ".rewrite", "rewrite may contain only one of uri and uriRegexRewrite");
      }
      if (rw.uriRegexRewrite() != null) {
        Checks.nonEmpty(
            r, at + ".rewrite.uriRegexRewrite.match", rw.uriRegexRewrite().match(), "match");
        Checks.regex(r, at + ".rewrite.uriRegexRewrite.match", rw.uriRegexRewrite().match());
      }
    }
    if (redirect) {
      var rd = route.redirect();
      if (rd.uri() == null
          && rd.authority() == null
          && rd.scheme() == null
          && rd.port() == null
          && rd.derivePort() == null) {
        r.error(
            at + ".redirect", "redirect must specify uri, authority, scheme, port or derivePort");
      }
      Checks.port(r, at + ".redirect.port", rd.port());
      if (rd.redirectCode() != null && (rd.redirectCode() < 300 || rd.redirectCode() > 399)) {
        r.error(
            at + ".redirect.redirectCode",
            rd.redirectCode() + " is not a valid redirect code, must be 3xx");
      }
    }
    if (direct) {
      var dr = route.directResponse();
      if (dr.status() == null || dr.status() < 200 || dr.status() > 599) {
        r.error(at + ".directResponse.status", "status must be in the range 200..599");
      }
      if (dr.body() != null && dr.body().bytes() != null) {
        try {
          java.util.Base64.getDecoder().decode(dr.body().bytes());
        } catch (IllegalArgumentException e) {
          r.error(at + ".directResponse.body.bytes", "must be base64");
        }
      }
    }
    for (int i = 0; i < route.match().size(); i++) {
      match(r, at + ".match[" + i + "]", route.match().get(i));
    }
    routeDestinations(
        r,
        at + ".route",
        route.route().stream().map(d -> new Weighted(d.destination(), d.weight())).toList());
    for (int i = 0; i < route.route().size(); i++) {
      headers(r, at + ".route[" + i + "].headers", route.route().get(i).headers());
    }
    Checks.duration(r, at + ".timeout", route.timeout());
    retries(r, at + ".retries", route.retries());
    fault(r, at + ".fault", route.fault());
    if (route.mirror() != null && !route.mirrors().isEmpty()) {
      r.error(at, "only one of mirror and mirrors may be set");
    }
    if (route.mirror() != null) {
      destination(r, at + ".mirror", route.mirror());
    }
    if (route.mirrorPercent() != null) {
      r.warn(at + ".mirrorPercent", "deprecated; use mirrorPercentage");
      Checks.percent(r, at + ".mirrorPercent", route.mirrorPercent());
    }
    percent(r, at + ".mirrorPercentage", route.mirrorPercentage());
    for (int i = 0; i < route.mirrors().size(); i++) {
      var m = route.mirrors().get(i);
      String mat = at + ".mirrors[" + i + "]";
      if (m.destination() == null) {
        r.error(mat + ".destination", "destination is required");
      } else {
        destination(r, mat + ".destination", m.destination());
      }
      percent(r, mat + ".percentage", m.percentage());
    }
    cors(r, at + ".corsPolicy", route.corsPolicy());
    headers(r, at + ".headers", route.headers());
  }

  private static void percent(Report r, String path, @Nullable Percent p) {
    if (p != null) {
      Checks.percent(r, path + ".value", p.value());
    }
  }

  private static void match(Report r, String at, VirtualService.HTTPMatchRequest m) {
    stringMatch(r, at + ".uri", m.uri(), false);
    stringMatch(r, at + ".scheme", m.scheme(), false);
    stringMatch(r, at + ".method", m.method(), false);
    stringMatch(r, at + ".authority", m.authority(), false);
    headerMatches(r, at + ".headers", m.headers());
    headerMatches(r, at + ".withoutHeaders", m.withoutHeaders());
    m.queryParams().forEach((k, v) -> stringMatch(r, at + ".queryParams." + k, v, true));
    Checks.port(r, at + ".port", m.port());
    Checks.labels(r, at + ".sourceLabels", m.sourceLabels());
    gateways(r, at + ".gateways", m.gateways());
    if (m.sourceNamespace() != null && !Checks.isDns1123Label(m.sourceNamespace())) {
      r.error(at + ".sourceNamespace", "\"" + m.sourceNamespace() + "\" is not a valid namespace");
    }
    if (Boolean.TRUE.equals(m.ignoreUriCase()) && m.uri() == null) {
      r.warn(at + ".ignoreUriCase", "has no effect without a uri match");
    }
  }

  private static void headerMatches(Report r, String path, Map<String, StringMatch> headers) {
    headers.forEach(
        (name, match) -> {
          if (name.isEmpty()) {
            r.error(path, "header name must not be empty");
          } else if (!name.equals(name.toLowerCase(Locale.ROOT))) {
            r.error(path + "." + name, "header name \"" + name + "\" must be lowercase");
          }
          stringMatch(r, path + "." + name, match, true);
        });
  }

  private static void stringMatch(Report r, String path, @Nullable StringMatch m, boolean emptyOk) {
    if (m == null) {
      return;
    }
    if (m.match() == null) {
      if (!emptyOk) {
        r.error(path, "must set one of exact, prefix or regex");
      }
      return;
    }
    if (m.regex() != null) {
      if (m.regex().isEmpty()) {
        r.error(path + ".regex", "regex must not be empty");
      }
      Checks.regex(r, path + ".regex", m.regex());
    }
  }

  record Weighted(@Nullable Destination destination, @Nullable Integer weight) {}

  static void routeDestinations(Report r, String path, List<Weighted> routes) {
    long total = 0;
    boolean negative = false;
    for (int i = 0; i < routes.size(); i++) {
      Weighted w = routes.get(i);
      String at = path + "[" + i + "]";
      if (w.destination() == null) {
        r.error(at + ".destination", "destination is required");
      } else {
        destination(r, at + ".destination", w.destination());
      }
      if (w.weight() != null) {
        if (w.weight() < 0) {
          r.error(at + ".weight", "must not be negative");
          negative = true;
        }
        total += w.weight();
      }
    }
    if (routes.size() > 1 && total == 0 && !negative) {
      r.error(path, "total destination weight is 0; at least one weight must be positive");
    }
  }

  static void destination(Report r, String at, Destination d) {
    if (d.host().isEmpty()) {
      r.error(at + ".host", "destination host is required");
    } else if (d.host().equals("*") || d.host().contains("/")) {
      r.error(at + ".host", "invalid destination host \"" + d.host() + "\"");
    } else {
      Checks.wildcardDomain(r, at + ".host", d.host());
    }
    if (d.subset() != null && !Checks.isDns1123Label(d.subset())) {
      r.error(at + ".subset", "subset name \"" + d.subset() + "\" is not a valid DNS label");
    }
    if (d.port() != null) {
      Checks.port(r, at + ".port.number", d.port().number());
    }
  }

  static void retries(Report r, String at, VirtualService.@Nullable HTTPRetry retry) {
    if (retry == null) {
      return;
    }
    Checks.nonNegative(r, at + ".attempts", retry.attempts());
    Checks.duration(r, at + ".perTryTimeout", retry.perTryTimeout());
    Checks.duration(r, at + ".backoff", retry.backoff());
    if (retry.retryOn() != null) {
      for (String policy : retry.retryOn().split(",")) {
        String p = policy.strip();
        if (p.isEmpty()) {
          continue;
        }
        if (!RETRY_ON.contains(p) && !isStatusCode(p)) {
          r.error(at + ".retryOn", "\"" + p + "\" is not a valid retryOn policy");
        }
      }
    }
  }

  private static boolean isStatusCode(String s) {
    try {
      int code = Integer.parseInt(s);
      return code >= 100 && code <= 599;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static void fault(
      Report r, String at, VirtualService.@Nullable HTTPFaultInjection fault) {
    if (fault == null) {
      return;
    }
    if (fault.delay() == null && fault.abort() == null) {
      r.error(at, "fault must have a delay or an abort");
    }
    var delay = fault.delay();
    if (delay != null) {
      Duration d = delay.fixedDelay() != null ? delay.fixedDelay() : delay.exponentialDelay();
      if (d == null) {
        r.error(at + ".delay", "delay needs fixedDelay");
      }
      Checks.duration(r, at + ".delay.fixedDelay", delay.fixedDelay());
      Checks.duration(r, at + ".delay.exponentialDelay", delay.exponentialDelay());
      percent(r, at + ".delay.percentage", delay.percentage());
      if (delay.percent() != null) {
        r.warn(at + ".delay.percent", "deprecated; use percentage");
        Checks.percent(r, at + ".delay.percent", delay.percent());
      }
    }
    var abort = fault.abort();
    if (abort != null) {
      if (abort.httpStatus() == null && abort.grpcStatus() == null && abort.http2Error() == null) {
        r.error(at + ".abort", "abort needs httpStatus, grpcStatus or http2Error");
      }
      if (abort.httpStatus() != null && (abort.httpStatus() < 200 || abort.httpStatus() > 599)) {
        r.error(
            at + ".abort.httpStatus",
            "invalid abort HTTP status " + abort.httpStatus() + ", must be in the range 200..599");
      }
      percent(r, at + ".abort.percentage", abort.percentage());
    }
  }

  private static void cors(Report r, String at, VirtualService.@Nullable CorsPolicy cors) {
    if (cors == null) {
      return;
    }
    if (!cors.allowOrigin().isEmpty()) {
      r.warn(at + ".allowOrigin", "deprecated; use allowOrigins");
    }
    for (int i = 0; i < cors.allowOrigins().size(); i++) {
      stringMatch(r, at + ".allowOrigins[" + i + "]", cors.allowOrigins().get(i), false);
    }
    for (int i = 0; i < cors.allowMethods().size(); i++) {
      String m = cors.allowMethods().get(i);
      if (!METHODS.contains(m)) {
        r.error(at + ".allowMethods[" + i + "]", "\"" + m + "\" is not a valid HTTP method");
      }
    }
    for (int i = 0; i < cors.allowHeaders().size(); i++) {
      Checks.headerName(r, at + ".allowHeaders[" + i + "]", cors.allowHeaders().get(i));
    }
    for (int i = 0; i < cors.exposeHeaders().size(); i++) {
      Checks.headerName(r, at + ".exposeHeaders[" + i + "]", cors.exposeHeaders().get(i));
    }
    if (cors.maxAge() != null) {
      Checks.duration(r, at + ".maxAge", cors.maxAge());
      if (cors.maxAge().getNano() != 0) {
        r.error(at + ".maxAge", "maxAge is accurate only to whole seconds");
      }
    }
  }

  private static void headers(Report r, String at, VirtualService.@Nullable Headers headers) {
    if (headers == null) {
      return;
    }
    ops(r, at + ".request", headers.request());
    ops(r, at + ".response", headers.response());
  }

  private static void ops(
      Report r, String at, VirtualService.Headers.@Nullable HeaderOperations ops) {
    if (ops == null) {
      return;
    }
    ops.set().keySet().forEach(n -> Checks.headerName(r, at + ".set." + n, n));
    ops.add().keySet().forEach(n -> Checks.headerName(r, at + ".add." + n, n));
    for (int i = 0; i < ops.remove().size(); i++) {
      Checks.headerName(r, at + ".remove[" + i + "]", ops.remove().get(i));
    }
  }
}
