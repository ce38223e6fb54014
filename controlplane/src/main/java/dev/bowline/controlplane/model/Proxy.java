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
    String generator) {
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
  }

  /** Whether this is a proxyless gRPC client (metadata {@code GENERATOR=grpc}). */
  public boolean isProxylessGrpc() {
    return generator.equals("grpc");
  }
}
