package dev.bowline.api.validation;

import dev.bowline.api.model.Port;
import dev.bowline.api.model.Sidecar;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Sidecar: egress hosts {@code ns/host}, one catch-all egress listener, ingress endpoints. */
final class SidecarRules {
  private SidecarRules() {}

  private static final Pattern DEFAULT_ENDPOINT =
      Pattern.compile("(127\\.0\\.0\\.1|0\\.0\\.0\\.0|\\[::1]|\\[::]):(\\d+)");

  static void check(Report r, Sidecar sc) {
    if (sc.workloadSelector() != null) {
      if (sc.workloadSelector().labels().isEmpty()) {
        r.error("spec.workloadSelector.labels", "workloadSelector must have at least one label");
      }
      Checks.labels(r, "spec.workloadSelector.labels", sc.workloadSelector().labels());
    }
    if (sc.egress().isEmpty()) {
      r.error("spec.egress", "sidecar needs at least one egress listener");
    }
    Set<Integer> ingressPorts = new HashSet<>();
    for (int i = 0; i < sc.ingress().size(); i++) {
      var in = sc.ingress().get(i);
      String at = "spec.ingress[" + i + "]";
      if (in.port() == null) {
        r.error(at + ".port", "ingress listener needs a port");
      } else {
        port(r, at + ".port", in.port(), in.bind(), in.captureMode());
        if (in.port().number() != null && !ingressPorts.add(in.port().number())) {
          r.error(
              at + ".port.number",
              "ingress port " + in.port().number() + " is used more than once");
        }
      }
      bind(r, at + ".bind", in.bind());
      String endpoint = in.defaultEndpoint();
      if (endpoint != null && !endpoint.isEmpty() && !endpoint.startsWith("unix://")) {
        var m = DEFAULT_ENDPOINT.matcher(endpoint);
        if (!m.matches()) {
          r.error(
              at + ".defaultEndpoint",
              "must be 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix://<path>");
        } else {
          Checks.port(r, at + ".defaultEndpoint", Integer.parseInt(m.group(2)));
        }
      }
      TrafficPolicyRules.connectionPool(r, at + ".connectionPool", in.connectionPool());
    }
    int catchAll = -1;
    Set<String> egressPorts = new HashSet<>();
    for (int i = 0; i < sc.egress().size(); i++) {
      var eg = sc.egress().get(i);
      String at = "spec.egress[" + i + "]";
      if (eg.port() == null) {
        if (catchAll >= 0) {
          r.error(at, "only one egress listener may have no port");
        }
        catchAll = i;
      } else {
        port(r, at + ".port", eg.port(), eg.bind(), eg.captureMode());
        String key = (eg.bind() == null ? "" : eg.bind()) + ":" + eg.port().number();
        if (!egressPorts.add(key)) {
          r.error(
              at + ".port.number",
              "egress port "
                  + eg.port().number()
                  + " is used more than once on the same bind address");
        }
      }
      bind(r, at + ".bind", eg.bind());
      if (eg.hosts().isEmpty()) {
        r.error(at + ".hosts", "egress listener needs at least one host");
      }
      for (int j = 0; j < eg.hosts().size(); j++) {
        egressHost(r, at + ".hosts[" + j + "]", eg.hosts().get(j));
      }
    }
    if (catchAll >= 0 && catchAll != sc.egress().size() - 1) {
      r.error(
          "spec.egress[" + catchAll + "]",
          "the egress listener without a port must be the last one");
    }
    TrafficPolicyRules.connectionPool(r, "spec.inboundConnectionPool", sc.inboundConnectionPool());
    var otp = sc.outboundTrafficPolicy();
    if (otp != null && otp.egressProxy() != null) {
      if (otp.mode() != Sidecar.OutboundTrafficPolicy.Mode.ALLOW_ANY) {
        r.error("spec.outboundTrafficPolicy.egressProxy", "egressProxy needs mode ALLOW_ANY");
      }
      VirtualServiceRules.destination(
          r, "spec.outboundTrafficPolicy.egressProxy", otp.egressProxy());
      if (otp.egressProxy().port() == null) {
        r.error("spec.outboundTrafficPolicy.egressProxy.port", "egressProxy needs a port");
      }
    }
  }

  private static void port(
      Report r, String at, Port p, @Nullable String bind, Sidecar.@Nullable CaptureMode capture) {
    Checks.protocol(r, at + ".protocol", p.protocol());
    if (p.number() == null) {
      r.error(at + ".number", "port number is required");
      return;
    }
    if (p.number() == 0) {
      // Port 0: a unix domain socket listener.
      if (bind == null || !bind.startsWith("unix://")) {
        r.error(at + ".number", "port 0 needs a unix:// socket bind address");
      } else if (capture != null
          && capture != Sidecar.CaptureMode.DEFAULT
          && capture != Sidecar.CaptureMode.NONE) {
        r.error(
            at.substring(0, at.lastIndexOf('.')) + ".captureMode",
            "unix socket listeners need captureMode DEFAULT or NONE");
      }
      return;
    }
    Checks.port(r, at + ".number", p.number());
  }

  private static void bind(Report r, String at, @Nullable String bind) {
    if (bind != null && !bind.isEmpty() && !bind.startsWith("unix://") && !Checks.isIp(bind)) {
      r.error(at, "\"" + bind + "\" is not an IP address or unix:// socket");
    }
  }

  private static void egressHost(Report r, String at, String host) {
    int slash = host.indexOf('/');
    if (slash < 0) {
      r.error(at, "host \"" + host + "\" must be of the form namespace/dnsName");
      return;
    }
    String ns = host.substring(0, slash);
    String dns = host.substring(slash + 1);
    if (!ns.equals("*") && !ns.equals(".") && !ns.equals("~") && !Checks.isDns1123Label(ns)) {
      r.error(
          at,
          "namespace \"" + ns + "\" in host \"" + host + "\" must be *, ., ~ or a valid namespace");
      return;
    }
    if (dns.contains("/")) {
      r.error(at, "host \"" + host + "\" must be of the form namespace/dnsName");
      return;
    }
    Checks.wildcardDomain(r, at, dns);
  }
}
