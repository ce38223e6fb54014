package dev.bowline.controlplane.model;

/** The first part of an Istio node id: what kind of proxy connects. */
public enum NodeType {
  /** A sidecar next to a workload, or a proxyless gRPC client ({@code sidecar~…}). */
  SIDECAR("sidecar"),
  /** A gateway ({@code router~…}). */
  ROUTER("router");

  private final String id;

  NodeType(String id) {
    this.id = id;
  }

  /** The node-id form: {@code sidecar} or {@code router}. */
  public String id() {
    return id;
  }
}
