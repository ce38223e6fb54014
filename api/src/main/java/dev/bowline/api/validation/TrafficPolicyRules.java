package dev.bowline.api.validation;

import dev.bowline.api.model.ClientTLSSettings;
import dev.bowline.api.model.ConnectionPoolSettings;
import dev.bowline.api.model.DestinationRule;
import dev.bowline.api.model.DestinationRule.LoadBalancerSettings;
import dev.bowline.api.model.DestinationRule.OutlierDetection;
import dev.bowline.api.model.DestinationRule.TrafficPolicy;
import dev.bowline.api.model.LocalityLoadBalancerSetting;
import java.math.BigInteger;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** DestinationRule and the traffic-policy parts other kinds share (connection pool). */
final class TrafficPolicyRules {
  private TrafficPolicyRules() {}

  static void checkDestinationRule(Report r, DestinationRule dr) {
    if (dr.host().isEmpty()) {
      r.error("spec.host", "host is required");
    } else {
      Checks.wildcardDomain(r, "spec.host", dr.host());
    }
    trafficPolicy(r, "spec.trafficPolicy", dr.trafficPolicy(), true);
    Set<String> names = new HashSet<>();
    for (int i = 0; i < dr.subsets().size(); i++) {
      var s = dr.subsets().get(i);
      String at = "spec.subsets[" + i + "]";
      if (s.name().isEmpty()) {
        r.error(at + ".name", "subset name is required");
      } else if (!Checks.isDns1123Label(s.name())) {
        r.error(at + ".name", "subset name \"" + s.name() + "\" is not a valid DNS label");
      } else if (!names.add(s.name())) {
        r.error(at + ".name", "duplicate subset name \"" + s.name() + "\"");
      }
      Checks.labels(r, at + ".labels", s.labels());
      trafficPolicy(r, at + ".trafficPolicy", s.trafficPolicy(), true);
    }
    Checks.exportTo(r, "spec.exportTo", dr.exportTo());
    if (dr.workloadSelector() != null) {
      if (dr.workloadSelector().matchLabels().isEmpty()) {
        r.error(
            "spec.workloadSelector.matchLabels", "workloadSelector must have at least one label");
      }
      Checks.labels(r, "spec.workloadSelector.matchLabels", dr.workloadSelector().matchLabels());
    }
  }

  private static void trafficPolicy(
      Report r, String at, @Nullable TrafficPolicy p, boolean portLevel) {
    if (p == null) {
      return;
    }
    if (p.loadBalancer() == null
        && p.connectionPool() == null
        && p.outlierDetection() == null
        && p.tls() == null
        && p.portLevelSettings().isEmpty()
        && p.tunnel() == null
        && p.proxyProtocol() == null
        && p.retryBudget() == null) {
      r.error(at, "traffic policy must have at least one field");
    }
    loadBalancer(r, at + ".loadBalancer", p.loadBalancer());
    connectionPool(r, at + ".connectionPool", p.connectionPool());
    outlier(r, at + ".outlierDetection", p.outlierDetection());
    tls(r, at + ".tls", p.tls());
    var locality = p.loadBalancer() == null ? null : p.loadBalancer().localityLbSetting();
    if (locality != null
        && (!locality.failover().isEmpty() || !locality.failoverPriority().isEmpty())
        && p.outlierDetection() == null) {
      r.warn(
          at + ".loadBalancer.localityLbSetting",
          "locality failover takes effect only with outlierDetection");
    }
    if (p.tunnel() != null) {
      var t = p.tunnel();
      if (t.protocol() != null && !t.protocol().equals("CONNECT") && !t.protocol().equals("POST")) {
        r.error(at + ".tunnel.protocol", "tunnel protocol must be CONNECT or POST");
      }
      if (t.targetHost() == null || t.targetHost().isEmpty()) {
        r.error(at + ".tunnel.targetHost", "targetHost is required");
      } else if (!Checks.isIp(t.targetHost())) {
        Checks.wildcardDomain(r, at + ".tunnel.targetHost", t.targetHost());
      }
      if (t.targetPort() == null) {
        r.error(at + ".tunnel.targetPort", "targetPort is required");
      }
      Checks.port(r, at + ".tunnel.targetPort", t.targetPort());
    }
    if (p.retryBudget() != null) {
      Checks.percent(r, at + ".retryBudget.percent", p.retryBudget().percent());
      Checks.nonNegative(
          r, at + ".retryBudget.minRetryConcurrency", p.retryBudget().minRetryConcurrency());
    }
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < p.portLevelSettings().size(); i++) {
      var pl = p.portLevelSettings().get(i);
      String pat = at + ".portLevelSettings[" + i + "]";
      if (pl.port() == null || pl.port().number() == null) {
        r.error(pat + ".port", "port traffic policy must have a port");
      } else {
        Checks.port(r, pat + ".port.number", pl.port().number());
        if (!ports.add(pl.port().number())) {
          r.error(
              pat + ".port.number", "duplicate port traffic policy for port " + pl.port().number());
        }
      }
      if (pl.loadBalancer() == null
          && pl.connectionPool() == null
          && pl.outlierDetection() == null
          && pl.tls() == null) {
        r.error(pat, "port traffic policy must have at least one field");
      }
      loadBalancer(r, pat + ".loadBalancer", pl.loadBalancer());
      connectionPool(r, pat + ".connectionPool", pl.connectionPool());
      outlier(r, pat + ".outlierDetection", pl.outlierDetection());
      tls(r, pat + ".tls", pl.tls());
    }
  }

  private static void loadBalancer(Report r, String at, @Nullable LoadBalancerSettings lb) {
    if (lb == null) {
      return;
    }
    var ch = lb.consistentHash();
    if (ch != null) {
      String c = at + ".consistentHash";
      if (ch.httpHeaderName() == null
          && ch.httpCookie() == null
          && ch.useSourceIp() == null
          && ch.httpQueryParameterName() == null) {
        r.error(
            c,
            "consistentHash needs a hash key: httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName");
      }
      if (ch.httpHeaderName() != null && ch.httpHeaderName().isEmpty()) {
        r.error(c + ".httpHeaderName", "header name must not be empty");
      }
      if (ch.httpQueryParameterName() != null && ch.httpQueryParameterName().isEmpty()) {
        r.error(c + ".httpQueryParameterName", "query parameter name must not be empty");
      }
      if (ch.httpCookie() != null) {
        Checks.nonEmpty(r, c + ".httpCookie.name", ch.httpCookie().name(), "cookie name");
        if (ch.httpCookie().ttl() != null && ch.httpCookie().ttl().isNegative()) {
          r.error(c + ".httpCookie.ttl", "duration must not be negative");
        }
      }
      if (ch.minimumRingSize() != null) {
        r.warn(c + ".minimumRingSize", "deprecated; use ringHash.minimumRingSize");
        if (ch.ringHash() != null || ch.maglev() != null) {
          r.error(c + ".minimumRingSize", "cannot be set together with ringHash or maglev");
        }
      }
      if (ch.maglev() != null && ch.maglev().tableSize() != null) {
        long size = ch.maglev().tableSize();
        if (size <= 1 || !BigInteger.valueOf(size).isProbablePrime(30)) {
          r.error(c + ".maglev.tableSize", "table size " + size + " must be a prime number");
        }
      }
      if (ch.ringHash() != null) {
        Checks.nonNegative(r, c + ".ringHash.minimumRingSize", ch.ringHash().minimumRingSize());
      }
    }
    if (lb.warmupDurationSecs() != null) {
      Checks.duration(r, at + ".warmupDurationSecs", lb.warmupDurationSecs());
    }
    if (lb.warmup() != null) {
      Checks.duration(r, at + ".warmup.duration", lb.warmup().duration());
      Checks.percent(r, at + ".warmup.minimumPercent", lb.warmup().minimumPercent());
      if (lb.warmup().aggression() != null && lb.warmup().aggression() < 1) {
        r.error(at + ".warmup.aggression", "aggression must be at least 1");
      }
    }
    if ((lb.warmup() != null || lb.warmupDurationSecs() != null)
        && lb.simple() != null
        && lb.simple() != LoadBalancerSettings.SimpleLB.ROUND_ROBIN
        && lb.simple() != LoadBalancerSettings.SimpleLB.LEAST_REQUEST) {
      r.error(at + ".simple", "warmup works only with ROUND_ROBIN and LEAST_REQUEST");
    }
    if (lb.warmup() != null && lb.warmupDurationSecs() != null) {
      r.error(at, "only one of warmup and warmupDurationSecs may be set");
    }
    locality(r, at + ".localityLbSetting", lb.localityLbSetting());
  }

  static void locality(Report r, String at, @Nullable LocalityLoadBalancerSetting l) {
    if (l == null) {
      return;
    }
    if (!l.distribute().isEmpty() && !l.failover().isEmpty()) {
      r.error(at, "cannot set both distribute and failover");
    }
    Set<String> froms = new HashSet<>();
    for (int i = 0; i < l.distribute().size(); i++) {
      var d = l.distribute().get(i);
      String dat = at + ".distribute[" + i + "]";
      if (d.from() == null || d.from().isEmpty()) {
        r.error(dat + ".from", "from is required");
      } else if (!froms.add(d.from())) {
        r.error(dat + ".from", "locality \"" + d.from() + "\" is distributed more than once");
      }
      long sum = 0;
      for (var e : d.to().entrySet()) {
        if (e.getValue() <= 0) {
          r.error(dat + ".to." + e.getKey(), "weight must be positive");
        }
        sum += e.getValue();
      }
      if (sum != 100) {
        r.error(dat + ".to", "weights must sum to 100, they sum to " + sum);
      }
    }
    for (int i = 0; i < l.failover().size(); i++) {
      var f = l.failover().get(i);
      String fat = at + ".failover[" + i + "]";
      if (f.from() == null || f.from().isEmpty() || f.to() == null || f.to().isEmpty()) {
        r.error(fat, "failover needs from and to regions");
      } else if (f.from().equals(f.to())) {
        r.error(fat, "failover from and to must be different regions");
      } else if (f.from().contains("/") || f.to().contains("/")) {
        r.error(fat, "failover is between regions; zones and subzones are not allowed");
      } else if (f.to().contains("*")) {
        r.error(fat + ".to", "failover region must not contain a * wildcard");
      }
    }
    Set<String> prio = new HashSet<>();
    for (int i = 0; i < l.failoverPriority().size(); i++) {
      String p = l.failoverPriority().get(i);
      if (p.isEmpty()) {
        r.error(at + ".failoverPriority[" + i + "]", "label must not be empty");
      } else if (!prio.add(p)) {
        r.error(at + ".failoverPriority[" + i + "]", "duplicate label \"" + p + "\"");
      }
    }
  }

  static void connectionPool(Report r, String at, @Nullable ConnectionPoolSettings cp) {
    if (cp == null) {
      return;
    }
    if (cp.tcp() == null && cp.http() == null) {
      r.error(at, "connection pool must have tcp or http settings");
    }
    var tcp = cp.tcp();
    if (tcp != null) {
      Checks.nonNegative(r, at + ".tcp.maxConnections", tcp.maxConnections());
      Checks.duration(r, at + ".tcp.connectTimeout", tcp.connectTimeout());
      Checks.duration(r, at + ".tcp.maxConnectionDuration", tcp.maxConnectionDuration());
      Checks.duration(r, at + ".tcp.idleTimeout", tcp.idleTimeout());
      if (tcp.tcpKeepalive() != null) {
        Checks.duration(r, at + ".tcp.tcpKeepalive.time", tcp.tcpKeepalive().time());
        Checks.duration(r, at + ".tcp.tcpKeepalive.interval", tcp.tcpKeepalive().interval());
        Checks.nonNegative(r, at + ".tcp.tcpKeepalive.probes", tcp.tcpKeepalive().probes());
      }
    }
    var http = cp.http();
    if (http != null) {
      Checks.nonNegative(r, at + ".http.http1MaxPendingRequests", http.http1MaxPendingRequests());
      Checks.nonNegative(r, at + ".http.http2MaxRequests", http.http2MaxRequests());
      Checks.nonNegative(r, at + ".http.maxRequestsPerConnection", http.maxRequestsPerConnection());
      Checks.nonNegative(r, at + ".http.maxRetries", http.maxRetries());
      Checks.nonNegative(r, at + ".http.maxConcurrentStreams", http.maxConcurrentStreams());
      Checks.duration(r, at + ".http.idleTimeout", http.idleTimeout());
    }
  }

  private static void outlier(Report r, String at, @Nullable OutlierDetection o) {
    if (o == null) {
      return;
    }
    if (o.consecutiveErrors() != null) {
      r.warn(
          at + ".consecutiveErrors",
          "deprecated; use consecutive5xxErrors or consecutiveGatewayErrors");
    }
    Checks.nonNegative(r, at + ".consecutiveErrors", o.consecutiveErrors());
    Checks.nonNegative(r, at + ".consecutive5xxErrors", o.consecutive5xxErrors());
    Checks.nonNegative(r, at + ".consecutiveGatewayErrors", o.consecutiveGatewayErrors());
    Checks.nonNegative(
        r, at + ".consecutiveLocalOriginFailures", o.consecutiveLocalOriginFailures());
    if (o.consecutiveLocalOriginFailures() != null
        && !Boolean.TRUE.equals(o.splitExternalLocalOriginErrors())) {
      r.error(
          at + ".consecutiveLocalOriginFailures",
          "applies only when splitExternalLocalOriginErrors is true");
    }
    Checks.duration(r, at + ".interval", o.interval());
    Checks.duration(r, at + ".baseEjectionTime", o.baseEjectionTime());
    Checks.percent(r, at + ".maxEjectionPercent", o.maxEjectionPercent());
    Checks.percent(r, at + ".minHealthPercent", o.minHealthPercent());
  }

  static void tls(Report r, String at, @Nullable ClientTLSSettings tls) {
    if (tls == null) {
      return;
    }
    var mode = tls.mode() == null ? ClientTLSSettings.Mode.DISABLE : tls.mode();
    boolean files =
        tls.clientCertificate() != null || tls.privateKey() != null || tls.caCertificates() != null;
    switch (mode) {
      case DISABLE, ISTIO_MUTUAL -> {
        if (files || tls.credentialName() != null) {
          r.error(at, "certificates and credentialName cannot be set with TLS mode " + mode);
        }
      }
      case SIMPLE -> {
        if (tls.clientCertificate() != null || tls.privateKey() != null) {
          r.error(at, "client certificate and key are only used with TLS mode MUTUAL");
        }
      }
      case MUTUAL -> {
        if (tls.credentialName() == null) {
          if (tls.clientCertificate() == null) {
            r.error(
                at + ".clientCertificate", "client certificate is required for TLS mode MUTUAL");
          }
          if (tls.privateKey() == null) {
            r.error(at + ".privateKey", "private key is required for TLS mode MUTUAL");
          }
        }
      }
    }
    if (tls.credentialName() != null && files) {
      r.error(
          at + ".credentialName",
          "cannot be set together with clientCertificate, privateKey or caCertificates");
    }
    if (Boolean.TRUE.equals(tls.insecureSkipVerify())
        && (tls.caCertificates() != null || !tls.subjectAltNames().isEmpty())) {
      r.error(at + ".insecureSkipVerify", "cannot be set with caCertificates or subjectAltNames");
    }
  }
}
