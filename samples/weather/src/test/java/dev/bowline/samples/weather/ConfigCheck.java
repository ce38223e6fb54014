package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checks the sample's Istio YAML without an Istio validator: every document parses and has a known
 * networking kind and apiVersion, a name and the namespace {@code weather}; each scenario only
 * fabric8's Istio model knows every field; each scenario only replaces base resources; and base
 * plus each scenario refers only to services, subsets and gateways that exist, with route weights
 * adding up to 100. Gathers every problem.
 */
final class ConfigCheck {

  static final String NAMESPACE = "weather";
  static final Set<String> SERVICES =
      Set.of("frontend", "forecast", "advertisement", "recommendation");
  static final Set<String> KINDS =
      Set.of("Gateway", "VirtualService", "DestinationRule", "Sidecar");
  static final Set<String> API_VERSIONS =
      Set.of(
          "networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1");

  /** Folders that add resources of their own instead of replacing base ones. */
  static final Set<String> ADDITIVE = Set.of("base", "local-mode");

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern README_ROW = Pattern.compile("(?m)^\\| `([a-z0-9-]+)` \\|");

  /** One parsed document: where it came from and its content. */
  record Doc(String where, String folder, String kind, String name, JsonNode node) {
    String key() {
      return kind + "/" + name;
    }
  }

  private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
  private final IstioModelOracle oracle = new IstioModelOracle();
  private final List<String> problems = new ArrayList<>();
  private int documents;

  /** All problems found under {@code config}; empty when it is sound. */
  List<String> check(Path config) throws IOException {
    Map<String, List<Doc>> byFolder = new LinkedHashMap<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(config)) {
      files =
          walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
              .sorted()
              .toList();
    }
    for (Path file : files) {
      String rel = config.relativize(file).toString();
      String folder =
          file.getParent().equals(config) ? "" : config.relativize(file.getParent()).toString();
      if (folder.isEmpty() || folder.contains("/")) {
        problems.add(rel + ": YAML belongs in base/ or one scenario folder directly under config/");
      }
      byFolder.computeIfAbsent(folder, f -> new ArrayList<>()).addAll(parse(file, rel, folder));
    }
    Map<String, Doc> base = index(byFolder.getOrDefault("base", List.of()), "base");
    if (base.isEmpty()) {
      problems.add("base: no resources");
    }
    for (var entry : byFolder.entrySet()) {
      String folder = entry.getKey();
      if (folder.equals("base")) {
        references("base", base);
        continue;
      }
      Map<String, Doc> scenario = index(entry.getValue(), folder);
      Map<String, Doc> effective = new HashMap<>(base);
      for (Doc doc : scenario.values()) {
        if (!ADDITIVE.contains(folder) && !base.containsKey(doc.key())) {
          problems.add(
              doc.where()
                  + ": "
                  + doc.key()
                  + " replaces nothing in base/ (a scenario must only replace base resources)");
        }
        effective.put(doc.key(), doc);
      }
      references(folder, effective);
    }
    readme(config, byFolder.keySet());
    return List.copyOf(problems);
  }

  int documents() {
    return documents;
  }

  private List<Doc> parse(Path file, String rel, String folder) throws IOException {
    List<Doc> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(file.toFile())) {
      int i = 0;
      while (it.hasNextValue()) {
        JsonNode node = it.nextValue();
        String where = rel + " doc " + i++;
        if (node == null || node.isNull() || node.isMissingNode()) {
          continue;
        }
        documents++;
        String apiVersion = node.path("apiVersion").asText("");
        String kind = node.path("kind").asText("");
        String name = node.at("/metadata/name").asText("");
        String namespace = node.at("/metadata/namespace").asText("");
        if (!KINDS.contains(kind)) {
          problems.add(where + ": kind: '" + kind + "' is not one of " + new TreeSet<>(KINDS));
        }
        if (!API_VERSIONS.contains(apiVersion)) {
          problems.add(
              where
                  + ": apiVersion: '"
                  + apiVersion
                  + "' is not one of "
                  + new TreeSet<>(API_VERSIONS));
        }
        if (!DNS_LABEL.matcher(name).matches()) {
          problems.add(where + ": metadata.name: '" + name + "' is not a DNS label");
        }
        if (!namespace.equals(NAMESPACE)) {
          problems.add(
              where + ": metadata.namespace: '" + namespace + "', expected '" + NAMESPACE + "'");
        }
        if (!node.path("spec").isObject()) {
          problems.add(where + ": spec: missing");
        }
        if (KINDS.contains(kind) && API_VERSIONS.contains(apiVersion)) {
          problems.addAll(oracle.check(where, node));
        }
        docs.add(new Doc(where, folder, kind, name, node));
      }
    } catch (IOException e) {
      problems.add(rel + ": not YAML: " + e.getMessage().lines().findFirst().orElse(""));
    }
    return docs;
  }

  private Map<String, Doc> index(List<Doc> docs, String folder) {
    Map<String, Doc> out = new HashMap<>();
    for (Doc doc : docs) {
      Doc before = out.put(doc.key(), doc);
      if (before != null) {
        problems.add(
            folder
                + ": "
                + doc.key()
                + " defined twice ("
                + before.where()
                + ", "
                + doc.where()
                + ")");
      }
    }
    return out;
  }

  /** Services, subsets, gateways and weights of the virtual services in one effective config. */
  private void references(String folder, Map<String, Doc> effective) {
    Map<String, Set<String>> subsets = new HashMap<>();
    Set<String> gateways = new TreeSet<>();
    for (Doc doc : effective.values()) {
      if (doc.kind().equals("DestinationRule")) {
        Set<String> names =
            subsets.computeIfAbsent(doc.node().at("/spec/host").asText(), h -> new TreeSet<>());
        doc.node().at("/spec/subsets").forEach(s -> names.add(s.path("name").asText()));
      } else if (doc.kind().equals("Gateway")) {
        gateways.add(doc.name());
      }
    }
    for (Doc doc : effective.values()) {
      if (doc.kind().equals("DestinationRule")
          && !SERVICES.contains(doc.node().at("/spec/host").asText())) {
        problems.add(
            folder
                + ": "
                + doc.where()
                + ": spec.host: unknown service '"
                + doc.node().at("/spec/host").asText()
                + "'");
      }
      if (!doc.kind().equals("VirtualService")) {
        continue;
      }
      String at = folder + ": " + doc.where() + ": ";
      if (!doc.node().at("/spec/hosts").isArray() || doc.node().at("/spec/hosts").isEmpty()) {
        problems.add(at + "spec.hosts: missing");
      }
      for (JsonNode g : doc.node().at("/spec/gateways")) {
        if (!gateways.contains(g.asText()) && !g.asText().equals("mesh")) {
          problems.add(at + "spec.gateways: unknown gateway '" + g.asText() + "'");
        }
      }
      JsonNode http = doc.node().at("/spec/http");
      for (int i = 0; i < http.size(); i++) {
        JsonNode rule = http.get(i);
        String path = "spec.http[" + i + "]";
        JsonNode route = rule.path("route");
        if (route.isEmpty() && !rule.has("redirect")) {
          problems.add(at + path + ": neither route nor redirect");
        }
        int sum = 0;
        for (int j = 0; j < route.size(); j++) {
          destination(
              at + path + ".route[" + j + "].destination",
              route.get(j).path("destination"),
              subsets);
          sum += route.get(j).path("weight").asInt(route.size() == 1 ? 100 : 0);
        }
        if (route.size() > 1 && sum != 100) {
          problems.add(at + path + ".route: weights add up to " + sum + ", not 100");
        }
        if (rule.has("mirror")) {
          destination(at + path + ".mirror", rule.get("mirror"), subsets);
        }
      }
    }
  }

  private void destination(String at, JsonNode destination, Map<String, Set<String>> subsets) {
    String host = destination.path("host").asText("");
    if (!SERVICES.contains(host)) {
      problems.add(at + ".host: unknown service '" + host + "'");
      return;
    }
    if (destination.has("subset")) {
      String subset = destination.get("subset").asText();
      Set<String> known = subsets.getOrDefault(host, Set.of());
      if (!known.contains(subset)) {
        problems.add(at + ".subset: '" + subset + "' is not a subset of " + host + " " + known);
      }
    }
  }

  private void readme(Path config, Set<String> folders) throws IOException {
    Path readme = config.resolve("README.md");
    if (!Files.exists(readme)) {
      problems.add("README.md: missing");
      return;
    }
    Set<String> listed = new TreeSet<>();
    README_ROW.matcher(Files.readString(readme)).results().forEach(m -> listed.add(m.group(1)));
    for (String folder : folders) {
      if (!ADDITIVE.contains(folder) && !folder.isEmpty() && !listed.contains(folder)) {
        problems.add("README.md: scenario folder '" + folder + "' is not in the table");
      }
    }
    for (String row : listed) {
      if (!folders.contains(row) && !SERVICES.contains(row)) {
        problems.add("README.md: lists '" + row + "', which has no folder");
      }
    }
  }
}
