package dev.bowline.controlplane.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The local registry's YAML file: {@code services} (namespace, name, ports, selector, labels) and
 * {@code workloads} (namespace, name, labels, address, ports, serviceAccount, locality, network,
 * health). Every error is collected and named by its field path; an unknown field is an error.
 *
 * <pre>
 * services:
 * - namespace: weather
 *   name: forecast
 *   ports: [{name: grpc, port: 8080}]
 * workloads:
 * - namespace: weather
 *   name: forecast-v1
 *   labels: {app: forecast, version: v1}
 *   address: 127.0.0.11
 *   serviceAccount: forecast
 *   locality: us-east/zone-a
 * </pre>
 */
public final class RegistryFile {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> TOP = Set.of("services", "workloads");
  private static final Set<String> SERVICE =
      Set.of("namespace", "name", "ports", "selector", "labels");
  private static final Set<String> PORT = Set.of("name", "port", "protocol", "targetPort");
  private static final Set<String> WORKLOAD =
      Set.of(
          "namespace",
          "name",
          "labels",
          "address",
          "ports",
          "serviceAccount",
          "locality",
          "network",
          "health");

  private RegistryFile() {}

  /** A parsed file. */
  public record Contents(List<LocalService> services, List<Workload> workloads) {
    public Contents {
      services = List.copyOf(services);
      workloads = List.copyOf(workloads);
    }
  }

  /** The file is invalid; {@link #errors()} names every bad field. */
  public static final class InvalidRegistryException extends Exception {
    private final List<String> errors;

    InvalidRegistryException(String source, List<String> errors) {
      super(source + ": " + String.join("; ", errors));
      this.errors = List.copyOf(errors);
    }

    /** Each error as {@code path: message}. */
    public List<String> errors() {
      return errors;
    }
  }

  /** Reads and validates {@code file}. */
  public static Contents read(Path file) throws IOException, InvalidRegistryException {
    return parse(Files.readString(file), file.toString());
  }

  /** Parses and validates YAML text; {@code source} names it in errors. */
  public static Contents parse(String yaml, String source) throws InvalidRegistryException {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InvalidRegistryException(
          source, List.of("not valid YAML: " + e.getOriginalMessage()));
    }
    List<String> errors = new ArrayList<>();
    List<LocalService> services = new ArrayList<>();
    List<Workload> workloads = new ArrayList<>();
    if (root == null || root.isMissingNode() || root.isNull()) {
      return new Contents(services, workloads);
    }
    if (!root.isObject()) {
      throw new InvalidRegistryException(source, List.of("the document must be a mapping"));
    }
    unknownFields(root, TOP, "", errors);
    int i = 0;
    for (JsonNode s : list(root, "services", "", errors)) {
      String path = "services[" + i++ + "]";
      int before = errors.size();
      unknownFields(s, SERVICE, path, errors);
      String ns = requiredString(s, "namespace", path, errors);
      String name = requiredString(s, "name", path, errors);
      List<ServicePort> ports = new ArrayList<>();
      int j = 0;
      for (JsonNode p : list(s, "ports", path, errors)) {
        ServicePort port = port(p, path + ".ports[" + j++ + "]", errors);
        if (port != null) {
          ports.add(port);
        }
      }
      if (ports.isEmpty() && errors.size() == before) {
        errors.add(path + ".ports: at least one port is required");
      }
      Map<String, String> selector = stringMap(s, "selector", path, errors);
      Map<String, String> labels = stringMap(s, "labels", path, errors);
      if (errors.size() == before) {
        try {
          services.add(new LocalService(ns, name, ports, selector, labels));
        } catch (IllegalArgumentException e) {
          errors.add(path + ": " + e.getMessage());
        }
      }
    }
    i = 0;
    for (JsonNode w : list(root, "workloads", "", errors)) {
      String path = "workloads[" + i++ + "]";
      int before = errors.size();
      unknownFields(w, WORKLOAD, path, errors);
      String ns = requiredString(w, "namespace", path, errors);
      String name = requiredString(w, "name", path, errors);
      String address = requiredString(w, "address", path, errors);
      if (!address.isEmpty() && !Workload.isIpLiteral(address)) {
        errors.add(path + ".address: '" + address + "' is not an IP address");
      }
      Map<String, String> labels = stringMap(w, "labels", path, errors);
      Map<String, Integer> ports = new LinkedHashMap<>();
      stringMap(w, "ports", path, errors)
          .forEach(
              (k, v) -> {
                Integer n = portNumber(v);
                if (n == null) {
                  errors.add(path + ".ports." + k + ": '" + v + "' is not a port number 1..65535");
                } else {
                  ports.put(k, n);
                }
              });
      String sa = optionalString(w, "serviceAccount", "default", path, errors);
      Locality locality = Locality.NONE;
      String loc = optionalString(w, "locality", "", path, errors);
      try {
        locality = Locality.parse(loc);
      } catch (IllegalArgumentException e) {
        errors.add(path + ".locality: " + e.getMessage());
      }
      String network = optionalString(w, "network", "", path, errors);
      HealthStatus health = HealthStatus.HEALTHY;
      String h = optionalString(w, "health", "HEALTHY", path, errors);
      try {
        health = HealthStatus.valueOf(h.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        errors.add(path + ".health: '" + h + "' is not one of HEALTHY, UNHEALTHY, DRAINING");
      }
      if (errors.size() == before) {
        workloads.add(
            new Workload(ns, name, labels, address, ports, sa, locality, network, health));
      }
    }
    checkUnique(
        services.stream().map(s -> s.namespace() + "/" + s.name()).toList(), "services", errors);
    checkUnique(
        workloads.stream().map(w -> w.namespace() + "/" + w.name()).toList(), "workloads", errors);
    if (!errors.isEmpty()) {
      throw new InvalidRegistryException(source, errors);
    }
    return new Contents(services, workloads);
  }

  private static void checkUnique(List<String> keys, String what, List<String> errors) {
    Set<String> seen = new java.util.HashSet<>();
    for (String k : keys) {
      if (!seen.add(k)) {
        errors.add(what + ": " + k + " is declared twice");
      }
    }
  }

  private static @Nullable ServicePort port(JsonNode p, String path, List<String> errors) {
    int before = errors.size();
    if (!p.isObject()) {
      errors.add(path + ": must be a mapping");
      return null;
    }
    unknownFields(p, PORT, path, errors);
    String name = optionalString(p, "name", "", path, errors);
    Integer number = null;
    JsonNode n = p.get("port");
    if (n == null) {
      errors.add(path + ".port: is required");
    } else if ((number = portNumber(n.asText())) == null) {
      errors.add(path + ".port: '" + n.asText() + "' is not a port number 1..65535");
    }
    Integer target = number;
    JsonNode t = p.get("targetPort");
    if (t != null && (target = portNumber(t.asText())) == null) {
      errors.add(path + ".targetPort: '" + t.asText() + "' is not a port number 1..65535");
    }
    String proto = optionalString(p, "protocol", "", path, errors);
    Protocol protocol = proto.isEmpty() ? Protocol.fromPortName(name) : Protocol.parse(proto);
    if (!proto.isEmpty() && protocol == Protocol.UNSUPPORTED) {
      errors.add(path + ".protocol: '" + proto + "' is not a known protocol");
    }
    if (errors.size() != before || number == null || target == null) {
      return null;
    }
    return new ServicePort(name, number, protocol, target);
  }

  private static @Nullable Integer portNumber(String s) {
    try {
      int n = Integer.parseInt(s.trim());
      return n >= 1 && n <= 65535 ? n : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static void unknownFields(
      JsonNode node, Set<String> known, String path, List<String> errors) {
    if (!node.isObject()) {
      errors.add((path.isEmpty() ? "document" : path) + ": must be a mapping");
      return;
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!known.contains(f)) {
        errors.add(
            join(path, f) + ": unknown field (known: " + new java.util.TreeSet<>(known) + ")");
      }
    }
  }

  private static List<JsonNode> list(
      JsonNode node, String field, String path, List<String> errors) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      errors.add(join(path, field) + ": must be a list");
      return List.of();
    }
    List<JsonNode> out = new ArrayList<>();
    v.forEach(out::add);
    return out;
  }

  private static String requiredString(
      JsonNode node, String field, String path, List<String> errors) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull() || (v.isTextual() && v.asText().isEmpty())) {
      errors.add(join(path, field) + ": is required");
      return "";
    }
    if (!v.isValueNode()) {
      errors.add(join(path, field) + ": must be a string");
      return "";
    }
    return v.asText();
  }

  private static String optionalString(
      JsonNode node, String field, String dflt, String path, List<String> errors) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isValueNode()) {
      errors.add(join(path, field) + ": must be a string");
      return dflt;
    }
    return v.asText();
  }

  private static Map<String, String> stringMap(
      JsonNode node, String field, String path, List<String> errors) {
    JsonNode v = node.get(field);
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null || v.isNull()) {
      return out;
    }
    if (!v.isObject()) {
      errors.add(join(path, field) + ": must be a mapping");
      return out;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isValueNode() || e.getValue().isNull()) {
        errors.add(join(path, field) + "." + e.getKey() + ": must be a string");
      } else {
        out.put(e.getKey(), e.getValue().asText());
      }
    }
    return out;
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }
}
