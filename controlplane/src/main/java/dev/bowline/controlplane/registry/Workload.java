package dev.bowline.controlplane.registry;

import java.net.InetAddress;
import java.util.Map;
import java.util.Objects;

/**
 * One workload instance (a pod, a local process) as the local registry knows it, like Istio's
 * WorkloadEntry.
 *
 * @param namespace its namespace
 * @param name its name, unique in the namespace
 * @param labels its labels; services select workloads by them
 * @param address its IP address (in local mode a loopback address {@code 127.0.0.N})
 * @param ports service port name to the port this workload listens on, overriding the service's
 *     {@code targetPort} (WorkloadEntry's {@code ports})
 * @param serviceAccount its service account (short name, in its namespace)
 * @param locality where it runs
 * @param network its network; empty for the default network
 * @param health its health
 */
public record Workload(
    String namespace,
    String name,
    Map<String, String> labels,
    String address,
    Map<String, Integer> ports,
    String serviceAccount,
    Locality locality,
    String network,
    HealthStatus health) {
  public Workload {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    labels = Map.copyOf(labels);
    Objects.requireNonNull(address, "address");
    ports = Map.copyOf(ports);
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    Objects.requireNonNull(locality, "locality");
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(health, "health");
    if (namespace.isEmpty()) {
      throw new IllegalArgumentException("workload " + name + ": namespace must not be empty");
    }
    if (name.isEmpty()) {
      throw new IllegalArgumentException("workload in " + namespace + ": name must not be empty");
    }
    if (!isIpLiteral(address)) {
      throw new IllegalArgumentException(
          "workload "
              + namespace
              + "/"
              + name
              + ": address '"
              + address
              + "' is not an IP address");
    }
  }

  /** Whether {@code s} is an IPv4 or IPv6 literal (no DNS lookup is made). */
  static boolean isIpLiteral(String s) {
    if (s.isEmpty()
        || !(s.indexOf(':') >= 0 || s.chars().allMatch(c -> c == '.' || Character.isDigit(c)))) {
      return false;
    }
    if (s.indexOf(':') < 0 && s.split("\\.", -1).length != 4) {
      return false;
    }
    try {
      InetAddress.ofLiteral(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
