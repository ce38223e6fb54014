package dev.bowline.cli.mesh;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.bowline.cli.mesh.MeshSpec.Port;
import dev.bowline.cli.mesh.MeshSpec.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads {@code mesh.yaml} strictly: every error is collected and reported as {@code file:line:
 * field.path: message}; an unknown field is an error, never ignored.
 *
 * <pre>
 * config: [config/base, config/local-mode]   # Istio config directories, relative to this file
 * workloads:
 * - name: forecast-v2
 *   namespace: weather                        # default: default
 *   labels: {app: forecast, version: v2}      # app is required: it names the service
 *   ports: [{name: http-forecast, number: 3002}]
 *   replicas: 1                               # 1-50, default 1
 *   locality: us-east/zone-a                  # region/zone/subzone, optional
 *   serviceAccount: forecast                  # default: default
 *   role: forecast                            # a Weather app role, or:
 *   # command: [python3, -m, http.server, --bind, "${BOWLINE_ADDRESS}", "${BOWLINE_PORT_HTTP}"]
 *   env: {KEY: value}
 *   health: /health                           # default /health for roles; else the port accepting
 * gateways:                                   # optional: ingress gateway proxies (decision 0014)
 * - name: istio-ingressgateway                # these four are the defaults
 *   namespace: istio-system
 *   labels: {istio: ingressgateway}           # app: NAME is added; Gateway selectors match these
 *   address: 127.0.0.1
 *   ports: [{name: http2, number: 80, targetPort: 8080}]  # Gateway port 80 listens on 8080
 * </pre>
 */
public final class MeshFile {
  /** The roles of the built-in Weather Forecast app. */
  public static final Set<String> ROLES =
      Set.of("frontend", "forecast", "advertisement", "recommendation");

  /** Istio's protocol prefixes of port names (istio.io "Protocol Selection"). */
  static final Set<String> PROTOCOLS =
      Set.of(
          "http",
          "http2",
          "https",
          "grpc",
          "grpc-web",
          "tcp",
          "tls",
          "mongo",
          "mysql",
          "redis",
          "udp");

  private static final Set<String> TOP = Set.of("config", "workloads", "gateways");
  private static final Set<String> GATEWAY =
      Set.of("name", "namespace", "labels", "address", "ports");
  private static final Set<String> WORKLOAD =
      Set.of(
          "name",
          "namespace",
          "labels",
          "ports",
          "replicas",
          "locality",
          "serviceAccount",
          "role",
          "command",
          "env",
          "health");
  private static final Set<String> PORT = Set.of("name", "number", "targetPort");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final int MAX_REPLICAS = 50;

  private MeshFile() {}

  /** {@code mesh.yaml} is invalid; {@link #errors()} lists every problem. */
  public static final class InvalidMeshException extends Exception {
    private final List<String> errors;

    InvalidMeshException(List<String> errors) {
      super(String.join("\n", errors));
      this.errors = List.copyOf(errors);
    }

    /** Each problem as {@code file:line: path: message}. */
    public List<String> errors() {
      return errors;
    }
  }

  /** Reads and validates {@code file}. */
  public static MeshSpec read(Path file) throws IOException, InvalidMeshException {
    return parse(Files.readString(file), file);
  }

  /** Parses and validates {@code yaml}; {@code source} names it in errors and anchors paths. */
  public static MeshSpec parse(String yaml, Path source) throws InvalidMeshException {
    return new Reader(source).read(yaml);
  }

  /** One parse: the tree, the line of every field path, and the errors so far. */
  private static final class Reader {
    private final Path source;
    private final String label;
    private final Map<String, Integer> lines = new HashMap<>();
    private final List<String> errors = new ArrayList<>();

    Reader(Path source) {
      this.source = source;
      Path name = source.getFileName();
      this.label = name == null ? source.toString() : name.toString();
    }

    MeshSpec read(String yaml) throws InvalidMeshException {
      JsonNode root;
      try (JsonParser p = new YAMLFactory().createParser(yaml)) {
        p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        JsonToken first = p.nextToken();
        root = first == null ? JsonNodeFactory.instance.nullNode() : node(p, "");
      } catch (JsonProcessingException e) {
        int line = e.getLocation() == null ? 1 : e.getLocation().getLineNr();
        throw new InvalidMeshException(
            List.of(label + ":" + line + ": not valid YAML: " + e.getOriginalMessage()));
      } catch (IOException e) {
        throw new InvalidMeshException(List.of(label + ": cannot read: " + e.getMessage()));
      }
      if (!root.isObject()) {
        error("", "must be a mapping with a 'workloads' list");
        throw new InvalidMeshException(errors);
      }
      unknown(root, TOP, "");
      List<Path> configDirs = new ArrayList<>();
      int c = 0;
      for (JsonNode d : list(root, "config", "")) {
        String path = "config[" + c++ + "]";
        if (!d.isTextual() || d.asText().isBlank()) {
          error(path, "must be a directory path");
        } else {
          Path dir = baseDir().resolve(d.asText()).normalize();
          if (!Files.isDirectory(dir)) {
            error(path, "'" + d.asText() + "' is not a directory (" + dir + ")");
          }
          configDirs.add(dir);
        }
      }
      Map<Integer, Workload> workloads = new java.util.TreeMap<>();
      List<JsonNode> ws = list(root, "workloads", "");
      if (ws.isEmpty() && root.get("workloads") == null) {
        error("workloads", "is required");
      } else if (ws.isEmpty()) {
        error("workloads", "must list at least one workload");
      }
      for (int i = 0; i < ws.size(); i++) {
        Workload w = workload(ws.get(i), "workloads[" + i + "]");
        if (w != null) {
          workloads.put(i, w);
        }
      }
      crossChecks(workloads);
      List<MeshSpec.Gateway> gateways = new ArrayList<>();
      List<JsonNode> gs = list(root, "gateways", "");
      for (int i = 0; i < gs.size(); i++) {
        MeshSpec.Gateway g = gateway(gs.get(i), "gateways[" + i + "]");
        if (g != null) {
          gateways.add(g);
        }
      }
      if (!errors.isEmpty()) {
        throw new InvalidMeshException(errors);
      }
      return new MeshSpec(source, configDirs, List.copyOf(workloads.values()), gateways);
    }

    private Path baseDir() {
      Path parent = source.toAbsolutePath().getParent();
      return parent == null ? Path.of(".") : parent;
    }

    private @Nullable Workload workload(JsonNode w, String path) {
      if (!w.isObject()) {
        error(path, "must be a mapping");
        return null;
      }
      int before = errors.size();
      unknown(w, WORKLOAD, path);
      String name = string(w, "name", path, true, "");
      if (!name.isEmpty() && (!DNS_LABEL.matcher(name).matches() || name.length() > 56)) {
        error(
            path + ".name",
            "'" + name + "' must be a DNS label: a-z, 0-9 and '-', at most 56 characters");
      }
      String namespace = string(w, "namespace", path, false, "default");
      if (!DNS_LABEL.matcher(namespace).matches() || namespace.length() > 63) {
        error(path + ".namespace", "'" + namespace + "' must be a DNS label (a-z, 0-9, '-')");
      }
      Map<String, String> labels = stringMap(w, "labels", path);
      if (!labels.containsKey("app") && w.get("labels") != null && w.get("labels").isObject()) {
        error(path + ".labels.app", "is required: it names the workload's service");
      } else if (w.get("labels") == null) {
        error(path + ".labels", "is required (at least app)");
      }
      String app = labels.getOrDefault("app", "");
      if (!app.isEmpty() && !DNS_LABEL.matcher(app).matches()) {
        error(path + ".labels.app", "'" + app + "' must be a DNS label: it is a service name");
      }
      List<Port> ports = ports(w, path, true);
      int replicas = 1;
      JsonNode r = w.get("replicas");
      if (r != null) {
        if (!r.isIntegralNumber()) {
          error(path + ".replicas", "must be a whole number");
        } else if (!r.canConvertToInt() || r.asInt() < 1 || r.asInt() > MAX_REPLICAS) {
          error(path + ".replicas", "must be 1-" + MAX_REPLICAS);
        } else {
          replicas = r.asInt();
        }
      }
      String locality = string(w, "locality", path, false, "");
      if (locality.split("/", -1).length > 3) {
        error(path + ".locality", "'" + locality + "' must be region/zone/subzone");
      }
      String sa = string(w, "serviceAccount", path, false, "default");
      if (!DNS_LABEL.matcher(sa).matches()) {
        error(path + ".serviceAccount", "'" + sa + "' must be a DNS label (a-z, 0-9, '-')");
      }
      MeshSpec.Run run = run(w, path, labels);
      Map<String, String> env = stringMap(w, "env", path);
      env.keySet().stream()
          .filter(k -> !ENV_NAME.matcher(k).matches())
          .forEach(k -> error(path + ".env." + k, "is not a valid environment variable name"));
      String health =
          string(w, "health", path, false, run instanceof MeshSpec.Role ? "/health" : "");
      if (!health.isEmpty() && !health.startsWith("/")) {
        error(path + ".health", "'" + health + "' must be an HTTP path starting with '/'");
      }
      if (errors.size() != before || run == null) {
        return null;
      }
      return new Workload(name, namespace, labels, ports, replicas, locality, sa, run, env, health);
    }

    private MeshSpec.@Nullable Gateway gateway(JsonNode g, String path) {
      if (!g.isObject()) {
        error(path, "must be a mapping");
        return null;
      }
      int before = errors.size();
      unknown(g, GATEWAY, path);
      String name = string(g, "name", path, false, "istio-ingressgateway");
      if (!DNS_LABEL.matcher(name).matches() || name.length() > 56) {
        error(path + ".name", "'" + name + "' must be a DNS label: a-z, 0-9 and '-'");
      }
      String namespace = string(g, "namespace", path, false, "istio-system");
      if (!DNS_LABEL.matcher(namespace).matches()) {
        error(path + ".namespace", "'" + namespace + "' must be a DNS label (a-z, 0-9, '-')");
      }
      Map<String, String> labels =
          g.get("labels") == null
              ? new LinkedHashMap<>(Map.of("istio", "ingressgateway"))
              : stringMap(g, "labels", path);
      labels.putIfAbsent("app", name);
      String address = string(g, "address", path, false, "127.0.0.1");
      try {
        if (!(java.net.InetAddress.ofLiteral(address) instanceof java.net.Inet4Address a)
            || !a.isLoopbackAddress()) {
          error(path + ".address", "'" + address + "' must be a loopback address 127.x.y.z");
        }
      } catch (IllegalArgumentException e) {
        error(path + ".address", "'" + address + "' is not an IPv4 address");
      }
      List<Port> ports =
          g.get("ports") == null ? List.of(new Port("http2", 80, 8080)) : ports(g, path, false);
      if (errors.size() != before) {
        return null;
      }
      return new MeshSpec.Gateway(name, namespace, labels, address, ports);
    }

    private MeshSpec.@Nullable Run run(JsonNode w, String path, Map<String, String> labels) {
      JsonNode role = w.get("role");
      JsonNode command = w.get("command");
      if (role != null && command != null) {
        error(path, "has both role and command; give one");
        return null;
      }
      if (role == null && command == null) {
        error(path, "needs a role (" + new TreeSet<>(ROLES) + ") or a command");
        return null;
      }
      if (role != null) {
        if (!role.isTextual() || !ROLES.contains(role.asText())) {
          error(path + ".role", "'" + role.asText() + "' is not one of " + new TreeSet<>(ROLES));
          return null;
        }
        String version = labels.getOrDefault("version", "v1");
        if (!version.equals("v1") && !version.equals("v2")) {
          error(
              path + ".labels.version",
              "'" + version + "': the Weather app's roles come in v1 and v2");
        }
        return new MeshSpec.Role(role.asText());
      }
      if (!command.isArray() || command.isEmpty()) {
        error(path + ".command", "must be a non-empty list of strings");
        return null;
      }
      List<String> argv = new ArrayList<>();
      for (int i = 0; i < command.size(); i++) {
        JsonNode a = command.get(i);
        if (!a.isValueNode() || a.isNull()) {
          error(path + ".command[" + i + "]", "must be a string");
        } else {
          argv.add(a.asText());
        }
      }
      return argv.size() == command.size() ? new MeshSpec.Command(argv) : null;
    }

    private List<Port> ports(JsonNode w, String path, boolean sidecar) {
      List<Port> out = new ArrayList<>();
      List<JsonNode> ps = list(w, "ports", path);
      if (ps.isEmpty()) {
        if (w.get("ports") == null || w.get("ports").isArray()) {
          error(path + ".ports", "at least one port is required");
        }
        return out;
      }
      Set<String> names = new HashSet<>();
      Set<Integer> numbers = new HashSet<>();
      for (int j = 0; j < ps.size(); j++) {
        String pp = path + ".ports[" + j + "]";
        JsonNode p = ps.get(j);
        if (!p.isObject()) {
          error(pp, "must be a mapping with name and number");
          continue;
        }
        unknown(p, PORT, pp);
        String name = string(p, "name", pp, true, "");
        if (!name.isEmpty()) {
          String protocol = protocolOf(name);
          if (protocol == null) {
            error(
                pp + ".name",
                "'"
                    + name
                    + "' must be <protocol>[-<suffix>] with a protocol of "
                    + new TreeSet<>(PROTOCOLS));
          } else if (!names.add(name)) {
            error(pp + ".name", "'" + name + "' is listed twice");
          }
        }
        int number = portNumber(p, "number", pp, true);
        if (number > 0 && !numbers.add(number)) {
          error(pp + ".number", number + " is listed twice");
        }
        int target = portNumber(p, "targetPort", pp, false);
        if (sidecar && target > 0 && target == number) {
          error(
              pp + ".targetPort",
              "must differ from number: the sidecar takes "
                  + number
                  + " and forwards to the app on targetPort");
        }
        out.add(new Port(name, number, target));
      }
      return out;
    }

    private int portNumber(JsonNode p, String field, String path, boolean required) {
      JsonNode n = p.get(field);
      if (n == null) {
        if (required) {
          error(path + "." + field, "is required");
        }
        return 0;
      }
      if (!n.isIntegralNumber()) {
        error(path + "." + field, "must be a number 1-65535");
        return 0;
      }
      if (!n.canConvertToInt() || n.asInt() < 1 || n.asInt() > 65535) {
        error(path + "." + field, "must be 1-65535");
        return 0;
      }
      return n.asInt();
    }

    /** Workload names are unique per namespace; workloads of one service agree on its ports. */
    private void crossChecks(Map<Integer, Workload> byIndex) {
      Map<String, Integer> byName = new HashMap<>();
      Map<String, Integer> byService = new HashMap<>();
      byIndex.forEach(
          (i, w) -> {
            String path = "workloads[" + i + "]";
            Integer first = byName.putIfAbsent(w.namespace() + "/" + w.name(), i);
            if (first != null) {
              error(
                  path + ".name",
                  "'"
                      + w.name()
                      + "' is already used by workloads["
                      + first
                      + "] in namespace "
                      + w.namespace());
              return;
            }
            String service = w.namespace() + "/" + w.app();
            Integer other = byService.putIfAbsent(service, i);
            if (other != null && !servicePorts(byIndex.get(other)).equals(servicePorts(w))) {
              error(
                  path + ".ports",
                  "service "
                      + service
                      + " has ports "
                      + servicePorts(byIndex.get(other))
                      + " in workloads["
                      + other
                      + "]; every workload of a service must list the same names and numbers");
            }
          });
    }

    private static Map<String, Integer> servicePorts(Workload w) {
      Map<String, Integer> out = new LinkedHashMap<>();
      w.ports().forEach(p -> out.put(p.name(), p.number()));
      return out;
    }

    // --- tree helpers ---------------------------------------------------------------------

    private void error(String path, String message) {
      errors.add(label + ":" + line(path) + ": " + (path.isEmpty() ? "" : path + ": ") + message);
    }

    /** The line of {@code path}, or of its nearest ancestor that has one. */
    private int line(String path) {
      String p = path;
      while (true) {
        Integer l = lines.get(p);
        if (l != null) {
          return l;
        }
        if (p.isEmpty()) {
          return 1;
        }
        int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
        p = cut < 0 ? "" : p.substring(0, cut);
      }
    }

    private void unknown(JsonNode node, Set<String> known, String path) {
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!known.contains(f)) {
          error(
              join(path, f),
              "unknown field (known: " + String.join(", ", new TreeSet<>(known)) + ")");
        }
      }
    }

    private List<JsonNode> list(JsonNode node, String field, String path) {
      JsonNode v = node.get(field);
      if (v == null || v.isNull()) {
        return List.of();
      }
      if (!v.isArray()) {
        error(join(path, field), "must be a list");
        return List.of();
      }
      List<JsonNode> out = new ArrayList<>();
      v.forEach(out::add);
      return out;
    }

    private String string(JsonNode node, String field, String path, boolean required, String dflt) {
      JsonNode v = node.get(field);
      if (v == null || v.isNull()) {
        if (required) {
          error(join(path, field), "is required");
        }
        return dflt;
      }
      if (!v.isTextual()) {
        error(join(path, field), "must be a string");
        return dflt;
      }
      if (required && v.asText().isEmpty()) {
        error(join(path, field), "must not be empty");
      }
      return v.asText();
    }

    private Map<String, String> stringMap(JsonNode node, String field, String path) {
      Map<String, String> out = new LinkedHashMap<>();
      JsonNode v = node.get(field);
      if (v == null || v.isNull()) {
        return out;
      }
      if (!v.isObject()) {
        error(join(path, field), "must be a mapping of strings");
        return out;
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isTextual()) {
          error(join(path, field) + "." + e.getKey(), "must be a string (quote it)");
        } else {
          out.put(e.getKey(), e.getValue().asText());
        }
      }
      return out;
    }

    private static String join(String path, String field) {
      return path.isEmpty() ? field : path + "." + field;
    }

    /** Builds the tree from the parser, recording the line of every field and list item. */
    private JsonNode node(JsonParser p, String path) throws IOException {
      lines.putIfAbsent(path, p.currentTokenLocation().getLineNr());
      JsonNodeFactory f = JsonNodeFactory.instance;
      JsonToken t = p.currentToken();
      return switch (t) {
        case START_OBJECT -> {
          ObjectNode o = f.objectNode();
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            String fp = join(path, name);
            lines.put(fp, p.currentTokenLocation().getLineNr());
            p.nextToken();
            o.set(name, node(p, fp));
          }
          yield o;
        }
        case START_ARRAY -> {
          ArrayNode a = f.arrayNode();
          int i = 0;
          while (p.nextToken() != JsonToken.END_ARRAY) {
            a.add(node(p, path + "[" + i++ + "]"));
          }
          yield a;
        }
        case VALUE_STRING -> f.textNode(p.getText());
        case VALUE_NUMBER_INT -> f.numberNode(p.getBigIntegerValue());
        case VALUE_NUMBER_FLOAT -> f.numberNode(p.getDecimalValue());
        case VALUE_TRUE -> f.booleanNode(true);
        case VALUE_FALSE -> f.booleanNode(false);
        case VALUE_NULL -> f.nullNode();
        default -> throw new JsonProcessingException("unexpected " + t, p.currentLocation()) {};
      };
    }
  }

  /** The protocol of an Istio port name ({@code http-forecast} is {@code http}), or null. */
  static @Nullable String protocolOf(String portName) {
    if (PROTOCOLS.contains(portName)) {
      return portName;
    }
    for (String proto : List.of("grpc-web", "http2", "https", "http", "grpc", "tcp", "tls")) {
      if (portName.startsWith(proto + "-")) {
        return proto;
      }
    }
    int dash = portName.indexOf('-');
    String head = dash < 0 ? portName : portName.substring(0, dash);
    return PROTOCOLS.contains(head) ? head : null;
  }
}
