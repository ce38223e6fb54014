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

  /** A proxy without HTTP10 metadata. */
  public Proxy(
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
      String autoRegisterGroup) {
    this(
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
        false);
  }

  /** A proxy without AUTO_REGISTER_GROUP metadata. */
  public Proxy(
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
      Map<String, Integer> podPorts) {
    this(
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
        "");
  }

  /** A proxy without POD_PORTS metadata. */
  public Proxy(
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
      String generator) {
    this(
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
        Map.of());
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
