package dev.bowline.controlplane.registry;

import java.util.Map;
import java.util.Objects;

/**
 * One instance of one service port: where to send its traffic.
 *
 * @param hostname the service's hostname
 * @param servicePort the service port this endpoint backs
 * @param address the workload's IP address
 * @param port the port the workload listens on
 * @param labels the workload's labels (used for subsets)
 * @param serviceAccount the workload's service account, short name
 * @param namespace the workload's namespace
 * @param workloadName the workload's name
 * @param locality where it runs
 * @param network its network
 * @param health its health
 * @param weight its load-balancing weight (WorkloadEntry {@code weight}), at least 1
 */
public record Endpoint(
    String hostname,
    int servicePort,
    String address,
    int port,
    Map<String, String> labels,
    String serviceAccount,
    String namespace,
    String workloadName,
    Locality locality,
    String network,
    HealthStatus health,
    int weight) {
  /** Istio's label saying whether a workload takes mTLS: {@code istio} or {@code disabled}. */
  public static final String TLS_MODE_LABEL = "security.istio.io/tlsMode";

  /** An endpoint of weight 1. */
  public Endpoint(
      String hostname,
      int servicePort,
      String address,
      int port,
      Map<String, String> labels,
      String serviceAccount,
      String namespace,
      String workloadName,
      Locality locality,
      String network,
      HealthStatus health) {
    this(
        hostname,
        servicePort,
        address,
        port,
        labels,
        serviceAccount,
        namespace,
        workloadName,
        locality,
        network,
        health,
        1);
  }

  /** This endpoint with {@code health}. */
  public Endpoint withHealth(HealthStatus health) {
    return health == this.health
        ? this
        : new Endpoint(
            hostname,
            servicePort,
            address,
            port,
            labels,
            serviceAccount,
            namespace,
            workloadName,
            locality,
            network,
            health,
            weight);
  }

  public Endpoint {
    Objects.requireNonNull(hostname, "hostname");
    Objects.requireNonNull(address, "address");
    labels = Map.copyOf(labels);
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(workloadName, "workloadName");
    Objects.requireNonNull(locality, "locality");
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(health, "health");
    if (weight < 1) {
      throw new IllegalArgumentException(
          "endpoint " + address + ":" + port + ": weight " + weight + " must be >= 1");
    }
  }

  /** The SPIFFE identity of this endpoint's service account in {@code trustDomain}. */
  public String spiffeId(String trustDomain) {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }
}
