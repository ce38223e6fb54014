package dev.bowline.api.validation;

import dev.bowline.api.model.ServiceEntry;
import dev.bowline.api.model.WorkloadEntry;
import dev.bowline.api.model.WorkloadGroup;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** ServiceEntry, WorkloadEntry and WorkloadGroup. */
final class WorkloadRules {
  private WorkloadRules() {}

  static void checkServiceEntry(Report r, ServiceEntry se) {
    if (se.hosts().isEmpty()) {
      r.error("spec.hosts", "service entry must have at least one host");
    }
    for (int i = 0; i < se.hosts().size(); i++) {
      String h = se.hosts().get(i);
      String at = "spec.hosts[" + i + "]";
      if (h.equals("*")) {
        r.error(at, "host * is not allowed in a service entry");
      } else {
        Checks.wildcardDomain(r, at, h);
      }
    }
    for (int i = 0; i < se.addresses().size(); i++) {
      Checks.ipOrCidr(r, "spec.addresses[" + i + "]", se.addresses().get(i));
    }
    Set<String> portNames = new HashSet<>();
    Set<Integer> portNumbers = new HashSet<>();
    for (int i = 0; i < se.ports().size(); i++) {
      var p = se.ports().get(i);
      String at = "spec.ports[" + i + "]";
      if (p.number() == null) {
        r.error(at + ".number", "port number is required");
      } else if (!portNumbers.add(p.number())) {
        r.error(at + ".number", "port " + p.number() + " is defined more than once");
      }
      Checks.port(r, at + ".number", p.number());
      Checks.port(r, at + ".targetPort", p.targetPort());
      if (p.name() == null || p.name().isEmpty()) {
        r.error(at + ".name", "port name is required");
      } else if (!Checks.isDns1123Label(p.name())) {
        r.error(at + ".name", "port name \"" + p.name() + "\" is not a valid DNS label");
      } else if (!portNames.add(p.name())) {
        r.error(at + ".name", "port name \"" + p.name() + "\" is not unique");
      }
      Checks.protocol(r, at + ".protocol", p.protocol());
    }
    var resolution = se.resolution() == null ? ServiceEntry.Resolution.NONE : se.resolution();
    if (se.workloadSelector() != null && !se.endpoints().isEmpty()) {
      r.error("spec", "only one of workloadSelector and endpoints may be set");
    }
    if (se.workloadSelector() != null) {
      if (se.workloadSelector().labels().isEmpty()) {
        r.error("spec.workloadSelector.labels", "workloadSelector must have at least one label");
      }
      Checks.labels(r, "spec.workloadSelector.labels", se.workloadSelector().labels());
    }
    switch (resolution) {
      case NONE -> {
        if (!se.endpoints().isEmpty()) {
          r.error("spec.endpoints", "no endpoints may be given with resolution NONE");
        }
      }
      case STATIC -> {
        if (se.endpoints().isEmpty() && se.workloadSelector() == null) {
          r.error("spec.endpoints", "resolution STATIC needs endpoints or a workloadSelector");
        }
        for (int i = 0; i < se.endpoints().size(); i++) {
          String a = se.endpoints().get(i).address();
          if (a != null && !a.startsWith("unix://") && !Checks.isIp(a)) {
            r.error(
                "spec.endpoints[" + i + "].address",
                "\"" + a + "\" is not an IP address (resolution STATIC)");
          }
        }
      }
      case DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS -> {
        if (se.endpoints().isEmpty()) {
          for (int i = 0; i < se.hosts().size(); i++) {
            if (se.hosts().get(i).startsWith("*")
                && resolution != ServiceEntry.Resolution.DYNAMIC_DNS) {
              r.error(
                  "spec.hosts[" + i + "]",
                  "wildcard host needs endpoints with resolution " + resolution);
            }
          }
        }
        if (resolution == ServiceEntry.Resolution.DNS_ROUND_ROBIN && se.endpoints().size() > 1) {
          r.error("spec.endpoints", "resolution DNS_ROUND_ROBIN allows only one endpoint");
        }
        for (int i = 0; i < se.endpoints().size(); i++) {
          String a = se.endpoints().get(i).address();
          if (a != null && !Checks.isIp(a) && !a.startsWith("unix://")) {
            Checks.wildcardDomain(r, "spec.endpoints[" + i + "].address", a);
          }
        }
      }
    }
    if (resolution != ServiceEntry.Resolution.NONE
        && resolution != ServiceEntry.Resolution.STATIC) {
      for (int i = 0; i < se.addresses().size(); i++) {
        if (se.addresses().get(i).contains("/") && !se.addresses().get(i).endsWith("/32")) {
          r.error("spec.addresses[" + i + "]", "CIDR ranges need resolution NONE or STATIC");
        }
      }
    }
    for (int i = 0; i < se.endpoints().size(); i++) {
      WorkloadEntry e = se.endpoints().get(i);
      String at = "spec.endpoints[" + i + "]";
      checkWorkloadEntry(r, at, e, false);
      for (String port : e.ports().keySet()) {
        if (!portNames.contains(port)) {
          r.error(
              at + ".ports." + port,
              "endpoint port \"" + port + "\" is not a port name of the service entry");
        }
      }
    }
    Checks.exportTo(r, "spec.exportTo", se.exportTo());
    for (int i = 0; i < se.subjectAltNames().size(); i++) {
      if (se.subjectAltNames().get(i).isEmpty()) {
        r.error("spec.subjectAltNames[" + i + "]", "must not be empty");
      }
    }
  }

  static void checkWorkloadEntry(Report r, String at, WorkloadEntry we, boolean template) {
    String address = we.address() == null ? "" : we.address();
    if (template) {
      if (!address.isEmpty()) {
        r.error(at + ".address", "address cannot be set in a template");
      }
    } else if (address.isEmpty()) {
      if (we.network() == null || we.network().isEmpty()) {
        r.error(at + ".address", "address is required (or a network)");
      }
    } else if (address.startsWith("unix://")) {
      if (!we.ports().isEmpty()) {
        r.error(at + ".ports", "a unix socket address cannot have ports");
      }
    } else if (!Checks.isIp(address)) {
      String problem = Checks.wildcardDomainProblem(address);
      if (problem != null || address.startsWith("*")) {
        r.error(
            at + ".address",
            "\"" + address + "\" is not an IP address, host name or unix:// socket");
      }
    }
    we.ports()
        .forEach(
            (name, port) -> {
              if (!Checks.isDns1123Label(name)) {
                r.error(
                    at + ".ports." + name, "port name \"" + name + "\" is not a valid DNS label");
              }
              Checks.port(r, at + ".ports." + name, port);
            });
    Checks.labels(r, at + ".labels", we.labels());
    Checks.nonNegative(r, at + ".weight", we.weight());
    if (we.serviceAccount() != null
        && !we.serviceAccount().isEmpty()
        && Checks.wildcardDomainProblem(we.serviceAccount()) != null) {
      r.error(
          at + ".serviceAccount",
          "\"" + we.serviceAccount() + "\" is not a valid service account name");
    }
  }

  static void checkWorkloadGroup(Report r, WorkloadGroup wg) {
    if (wg.template() == null) {
      r.error("spec.template", "template is required");
    } else {
      checkWorkloadEntry(r, "spec.template", wg.template(), true);
    }
    if (wg.metadata() != null) {
      Checks.labels(r, "spec.metadata.labels", wg.metadata().labels());
    }
    probe(r, "spec.probe", wg.probe());
  }

  /** A readiness probe (WorkloadGroup {@code probe}, MeshConfig {@code readinessProbe}). */
  static void probe(Report r, String at, WorkloadGroup.@Nullable ReadinessProbe p) {
    if (p == null) {
      return;
    }
    if (p.httpGet() == null && p.tcpSocket() == null && p.exec() == null && p.grpc() == null) {
      r.error(at, "probe needs one of httpGet, tcpSocket, exec or grpc");
    }
    Checks.nonNegative(r, at + ".initialDelaySeconds", p.initialDelaySeconds());
    Checks.nonNegative(r, at + ".timeoutSeconds", p.timeoutSeconds());
    Checks.nonNegative(r, at + ".periodSeconds", p.periodSeconds());
    Checks.nonNegative(r, at + ".successThreshold", p.successThreshold());
    Checks.nonNegative(r, at + ".failureThreshold", p.failureThreshold());
    if (p.httpGet() != null) {
      if (p.httpGet().port() == null) {
        r.error(at + ".httpGet.port", "port is required");
      }
      Checks.port(r, at + ".httpGet.port", p.httpGet().port());
    }
    if (p.tcpSocket() != null) {
      if (p.tcpSocket().port() == null) {
        r.error(at + ".tcpSocket.port", "port is required");
      }
      Checks.port(r, at + ".tcpSocket.port", p.tcpSocket().port());
    }
    if (p.grpc() != null) {
      Checks.port(r, at + ".grpc.port", p.grpc().port());
    }
    if (p.exec() != null && p.exec().command().isEmpty()) {
      r.error(at + ".exec.command", "command is required");
    }
  }
}
