package dev.bowline.proxy.http.filter;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;

/**
 * The proxy's own node, from its bootstrap: what filters that describe this workload to others
 * (metadata exchange, stats) start from.
 *
 * @param id the node id
 * @param cluster the node's cluster (Envoy's {@code --service-cluster})
 * @param metadata the node metadata as the bootstrap gives it
 */
public record NodeInfo(String id, String cluster, Struct metadata) {
  /** A node with nothing known, for proxies whose bootstrap names none. */
  public static final NodeInfo EMPTY = new NodeInfo("", "", Struct.getDefaultInstance());

  /** The string metadata field {@code key}, or {@code ""}. */
  public String string(String key) {
    Value v = metadata.getFieldsOrDefault(key, Value.getDefaultInstance());
    return v.hasStringValue() ? v.getStringValue() : "";
  }
}
