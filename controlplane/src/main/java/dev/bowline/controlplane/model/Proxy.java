package dev.bowline.controlplane.model;

import java.util.Map;
import java.util.Objects;

/**
 * A connected proxy (Envoy-like sidecar, gateway, or proxyless gRPC client) as Istio models it:
 * from the node id {@code sidecar~10.0.0.5~forecast-v1-abc.weather~weather.svc.cluster.local} and
 * the node metadata.
 *
 * @param id the node id as sent
 * @param type sidecar or router
 * @param ipAddress the IP address from the node id
 * @param workloadName the pod or workload name (the part of the id before the namespace)
 * @param namespace the config namespace: metadata NAMESPACE, else taken from the id
 * @param dnsDomain the id's last part ({@code weather.svc.cluster.local})
 * @param labels metadata LABELS
 * @param clusterId metadata CLUSTER_ID (empty if absent)
 * @param istioVersion metadata ISTIO_VERSION (empty if absent)
 * @param interceptionMode metadata INTERCEPTION_MODE ({@code REDIRECT}, {@code TPROXY}, {@code
 *     NONE}); {@code REDIRECT} if absent
 * @param generator metadata GENERATOR; {@code grpc} marks a proxyless gRPC client
 * @param podPorts metadata POD_PORTS (the container ports, Istio's JSON list of {@code {name,
 *     containerPort}}) as port name to port; in local mode where the inbound listener forwards to
 * @param autoRegisterGroup metadata AUTO_REGISTER_GROUP: the WorkloadGroup (in its namespace) whose
 *     template registers this proxy's workload as a WorkloadEntry while it is connected; empty for
 *     none
 * @param http10 metadata HTTP10 is {@code "1"} (Istio's {@code ISTIO_META_HTTP10}): its connection
 *     managers accept HTTP/1.0
 */
public record Proxy(
    String id,
    NodeType type,
    String ipAddress,
    String workloadName,
    String namespace,
    String dnsDomain,
    Map<String, String> labels,
    String clusterId,
    String istioVersion,
    String interceptionMode,
    String generator,
    Map<String, Integer> podPorts,
    String autoRegisterGroup,
    boolean http10) {
  public Proxy {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(ipAddress, "ipAddress");
    Objects.requireNonNull(workloadName, "workloadName");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(dnsDomain, "dnsDomain");
    labels = Map.copyOf(labels);
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(istioVersion, "istioVersion");
    Objects.requireNonNull(interceptionMode, "interceptionMode");
    Objects.requireNonNull(generator, "generator");
    podPorts = Map.copyOf(podPorts);
    Objects.requireNonNull(autoRegisterGroup, "autoRegisterGroup");
  }

  /**
   * A builder of a proxy with the node id's parts; every metadata field starts absent (no labels,
   * empty cluster id, version, generator and auto-register group, {@code REDIRECT}, no pod ports,
   * no HTTP10), as {@link NodeParser} reads a node without that metadata.
   */
  public static Builder builder(
      String id,
      NodeType type,
      String ipAddress,
      String workloadName,
      String namespace,
      String dnsDomain) {
    return new Builder(id, type, ipAddress, workloadName, namespace, dnsDomain);
  }

  /** Builds a {@link Proxy}; from {@link Proxy#builder}. */
  public static final class Builder {
    private final String id;
    private final NodeType type;
    private final String ipAddress;
    private final String workloadName;
    private final String namespace;
    private final String dnsDomain;
    private Map<String, String> labels = Map.of();
    private String clusterId = "";
    private String istioVersion = "";
    private String interceptionMode = "REDIRECT";
    private String generator = "";
    private Map<String, Integer> podPorts = Map.of();
    private String autoRegisterGroup = "";
    private boolean http10;

    Builder(
        String id,
        NodeType type,
        String ipAddress,
        String workloadName,
        String namespace,
        String dnsDomain) {
      this.id = id;
      this.type = type;
      this.ipAddress = ipAddress;
      this.workloadName = workloadName;
      this.namespace = namespace;
      this.dnsDomain = dnsDomain;
    }

    /** Metadata LABELS. */
    public Builder labels(Map<String, String> labels) {
      this.labels = labels;
      return this;
    }

    /** Metadata CLUSTER_ID. */
    public Builder clusterId(String clusterId) {
      this.clusterId = clusterId;
      return this;
    }

    /** Metadata ISTIO_VERSION. */
    public Builder istioVersion(String istioVersion) {
      this.istioVersion = istioVersion;
      return this;
    }

    /** Metadata INTERCEPTION_MODE. */
    public Builder interceptionMode(String interceptionMode) {
      this.interceptionMode = interceptionMode;
      return this;
    }

    /** Metadata GENERATOR. */
    public Builder generator(String generator) {
      this.generator = generator;
      return this;
    }

    /** Metadata POD_PORTS, as port name to port. */
    public Builder podPorts(Map<String, Integer> podPorts) {
      this.podPorts = podPorts;
      return this;
    }

    /** Metadata AUTO_REGISTER_GROUP. */
    public Builder autoRegisterGroup(String autoRegisterGroup) {
      this.autoRegisterGroup = autoRegisterGroup;
      return this;
    }

    /** Metadata HTTP10 is {@code "1"}. */
    public Builder http10(boolean http10) {
      this.http10 = http10;
      return this;
    }

    /** The proxy. */
    public Proxy build() {
      return new Proxy(
          id,
          type,
          ipAddress,
          workloadName,
          namespace,
          dnsDomain,
          labels,
          clusterId,
          istioVersion,
          interceptionMode,
          generator,
          podPorts,
          autoRegisterGroup,
          http10);
    }
  }

  /** Whether nothing redirects this proxy's traffic (metadata {@code INTERCEPTION_MODE=NONE}). */
  public boolean isLocalMode() {
    return interceptionMode.equals("NONE");
  }

  /** Whether this is a proxyless gRPC client (metadata {@code GENERATOR=grpc}). */
  public boolean isProxylessGrpc() {
    return generator.equals("grpc");
  }
}
