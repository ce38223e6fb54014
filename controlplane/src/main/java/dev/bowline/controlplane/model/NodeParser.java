package dev.bowline.controlplane.model;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns an xDS {@link Node} into a {@link Proxy}, as istiod does, or says exactly what is wrong.
 */
public final class NodeParser {
  private NodeParser() {}

  /**
   * Parses {@code node}. The id must have Istio's four {@code ~}-separated parts: type ({@code
   * sidecar} or {@code router}), an IP address, {@code name.namespace}, and the DNS domain.
   *
   * @throws InvalidNodeException naming the node id and the bad part
   */
  public static Proxy parse(Node node) throws InvalidNodeException {
    String id = node.getId();
    if (id.isEmpty()) {
      throw new InvalidNodeException(
          "node id is empty; expected sidecar~IP~name.namespace~namespace.svc.cluster.local");
    }
    String[] parts = id.split("~", -1);
    if (parts.length != 4) {
      throw new InvalidNodeException(
          "node id '"
              + id
              + "' has "
              + parts.length
              + " parts; expected 4: TYPE~IP~name.namespace~namespace.svc.cluster.local");
    }
    NodeType type =
        switch (parts[0]) {
          case "sidecar" -> NodeType.SIDECAR;
          case "router" -> NodeType.ROUTER;
          default ->
              throw new InvalidNodeException(
                  "node id '" + id + "': type '" + parts[0] + "' is not sidecar or router");
        };
    String ip = parts[1];
    if (!isIp(ip)) {
      throw new InvalidNodeException("node id '" + id + "': '" + ip + "' is not an IP address");
    }
    String name = parts[2];
    if (name.isEmpty()) {
      throw new InvalidNodeException("node id '" + id + "': the name.namespace part is empty");
    }
    Struct md = node.getMetadata();
    String namespace = string(md, "NAMESPACE");
    String workloadName = name;
    int dot = name.lastIndexOf('.');
    if (dot > 0) {
      workloadName = name.substring(0, dot);
      if (namespace.isEmpty()) {
        namespace = name.substring(dot + 1);
      }
    }
    if (namespace.isEmpty()) {
      int d = parts[3].indexOf('.');
      namespace = d > 0 ? parts[3].substring(0, d) : "";
    }
    if (namespace.isEmpty()) {
      throw new InvalidNodeException(
          "node id '" + id + "': no namespace (metadata NAMESPACE is absent and the id has none)");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    Value l = md.getFieldsMap().get("LABELS");
    if (l != null) {
      if (!l.hasStructValue()) {
        throw new InvalidNodeException(
            "node '" + id + "': metadata LABELS must be a map of strings");
      }
      for (Map.Entry<String, Value> e : l.getStructValue().getFieldsMap().entrySet()) {
        if (!e.getValue().hasStringValue()) {
          throw new InvalidNodeException(
              "node '" + id + "': metadata LABELS." + e.getKey() + " must be a string");
        }
        labels.put(e.getKey(), e.getValue().getStringValue());
      }
    }
    String interception = string(md, "INTERCEPTION_MODE");
    return new Proxy(
        id,
        type,
        ip,
        workloadName,
        namespace,
        parts[3],
        labels,
        string(md, "CLUSTER_ID"),
        string(md, "ISTIO_VERSION"),
        interception.isEmpty() ? "REDIRECT" : interception,
        string(md, "GENERATOR"),
        podPorts(id, string(md, "POD_PORTS")),
        string(md, "AUTO_REGISTER_GROUP"),
        string(md, "HTTP10").equals("1"));
  }

  /** POD_PORTS, a JSON string {@code [{"name":"http","containerPort":8080,...}]}, by port name. */
  private static Map<String, Integer> podPorts(String id, String json) throws InvalidNodeException {
    Map<String, Integer> out = new LinkedHashMap<>();
    if (json.isEmpty()) {
      return out;
    }
    ListValue.Builder list = ListValue.newBuilder();
    try {
      JsonFormat.parser().merge(json, list);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new InvalidNodeException(
          "node '" + id + "': metadata POD_PORTS is not a JSON list: " + e.getMessage());
    }
    for (int i = 0; i < list.getValuesCount(); i++) {
      Value v = list.getValues(i);
      Value name = v.getStructValue().getFieldsMap().get("name");
      Value port = v.getStructValue().getFieldsMap().get("containerPort");
      if (port == null || !port.hasNumberValue()) {
        throw new InvalidNodeException(
            "node '" + id + "': metadata POD_PORTS[" + i + "].containerPort must be a number");
      }
      if (name != null && name.hasStringValue() && !name.getStringValue().isEmpty()) {
        out.put(name.getStringValue(), (int) port.getNumberValue());
      }
    }
    return out;
  }

  private static String string(Struct md, String key) {
    Value v = md.getFieldsMap().get(key);
    return v != null && v.hasStringValue() ? v.getStringValue() : "";
  }

  private static boolean isIp(String s) {
    if (s.isEmpty()
        || !(s.indexOf(':') >= 0 || s.chars().allMatch(c -> c == '.' || Character.isDigit(c)))
        || (s.indexOf(':') < 0 && s.split("\\.", -1).length != 4)) {
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
