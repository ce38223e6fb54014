package dev.bowline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.bowline.cli.mesh.MeshSpec;
import dev.bowline.config.analysis.LocalRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What {@code analyze} knows of local services and workloads: from a mesh file or a registry. */
final class LocalRegistries {
  private LocalRegistries() {}

  /**
   * The services and workloads {@code bowline up} would register for {@code mesh}: one service per
   * namespace and {@code app} label, one workload per mesh workload.
   */
  static LocalRegistry of(MeshSpec mesh) {
    List<LocalRegistry.Service> services = new ArrayList<>();
    List<LocalRegistry.Workload> workloads = new ArrayList<>();
    for (MeshSpec.Workload w : mesh.workloads()) {
      var svc = new LocalRegistry.Service(w.namespace(), w.app());
      if (!services.contains(svc)) {
        services.add(svc);
      }
      workloads.add(new LocalRegistry.Workload(w.namespace(), w.name(), w.labels()));
    }
    return new LocalRegistry(services, workloads);
  }

  /**
   * The services and workloads of the control plane's registry file ({@code services[].namespace,
   * name}, {@code workloads[].namespace, name, labels}); the control plane checks the rest.
   */
  static LocalRegistry read(Path file) throws IOException {
    JsonNode root = new YAMLMapper().readTree(Files.readString(file));
    if (root == null || root.isMissingNode() || root.isNull()) {
      return LocalRegistry.empty();
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException(file + ": a registry file must be a mapping");
    }
    List<LocalRegistry.Service> services = new ArrayList<>();
    JsonNode svcs = root.path("services");
    for (int i = 0; i < svcs.size(); i++) {
      JsonNode s = svcs.get(i);
      services.add(
          new LocalRegistry.Service(
              text(file, s, "namespace", "services[" + i + "]"),
              text(file, s, "name", "services[" + i + "]")));
    }
    List<LocalRegistry.Workload> workloads = new ArrayList<>();
    JsonNode wls = root.path("workloads");
    for (int i = 0; i < wls.size(); i++) {
      JsonNode w = wls.get(i);
      Map<String, String> labels = new LinkedHashMap<>();
      w.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
      workloads.add(
          new LocalRegistry.Workload(
              text(file, w, "namespace", "workloads[" + i + "]"),
              text(file, w, "name", "workloads[" + i + "]"),
              labels));
    }
    return new LocalRegistry(services, workloads);
  }

  private static String text(Path file, JsonNode node, String field, String at) {
    JsonNode v = node.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw new IllegalArgumentException(file + ": " + at + "." + field + ": required");
    }
    return v.asText();
  }
}
