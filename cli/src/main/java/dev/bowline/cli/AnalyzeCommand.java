package dev.bowline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.bowline.api.Decoded;
import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.validation.Validator;
import dev.bowline.cli.mesh.MeshFile;
import dev.bowline.cli.mesh.MeshSpec;
import dev.bowline.config.ConfigFiles;
import dev.bowline.config.analysis.AnalysisContext;
import dev.bowline.config.analysis.AnalysisMessage;
import dev.bowline.config.analysis.Analyzers;
import dev.bowline.config.analysis.LocalRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bowline analyze -f DIR... [--mesh FILE] [--registry FILE] [-o text|json|yaml]}: reads
 * every resource and reports cross-resource problems with Istio's message codes, like {@code
 * istioctl analyze}. The local runner's mesh file and the control plane's registry file stand in
 * for the cluster's Services and pods. Exits 79 (istioctl's code) when an error is found, 0
 * otherwise.
 */
@Command(
    name = "analyze",
    mixinStandardHelpOptions = true,
    description = {
      "Analyze Istio configuration across resources, with Istio's message codes (IST0101, ...).",
      "A mesh.yaml among the files is read as the MeshConfig.",
      "Exit code: 79 when an Error-level message was found (as istioctl), 0 otherwise."
    })
final class AnalyzeCommand implements Callable<Integer> {
  /** istioctl analyze's exit code when analyzers found an error. */
  static final int ISSUES_FOUND = 79;

  enum Format {
    text,
    json,
    yaml
  }

  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--filename"},
      arity = "1..*",
      paramLabel = "PATH",
      description = {
        "Files or directories (searched recursively for *.yaml, *.yml, *.json).",
        "Default with --mesh: the mesh file's config directories."
      })
  List<Path> paths = new ArrayList<>();

  @Option(
      names = "--mesh",
      paramLabel = "FILE",
      description =
          "The local runner's mesh file (bowline up -f FILE): its workloads are the pods and its"
              + " apps the services of the analysis (a host like forecast is found, a selector"
              + " matching no workload is reported).")
  Path meshFile;

  @Option(
      names = "--registry",
      paramLabel = "FILE",
      description =
          "The control plane's registry file (bowline control-plane --registry FILE): its"
              + " services and workloads count as found.")
  Path registryFile;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "text",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Format output;

  @Option(
      names = {"-n", "--namespace"},
      defaultValue = "default",
      description = "Namespace of resources that name none (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ResourceCodec codec = new ResourceCodec(namespace);
    LocalRegistry registry = LocalRegistry.empty();
    try {
      if (meshFile != null) {
        MeshSpec mesh = MeshFile.read(meshFile);
        registry = registry.plus(LocalRegistries.of(mesh));
        if (paths.isEmpty()) {
          paths = new ArrayList<>(mesh.configDirs());
        }
      }
      if (registryFile != null) {
        registry = registry.plus(LocalRegistries.read(registryFile));
      }
    } catch (MeshFile.InvalidMeshException e) {
      e.errors().forEach(m -> err.println("Error: " + m));
      return 1;
    } catch (IOException | IllegalArgumentException e) {
      err.println("Error: " + e.getMessage());
      return 1;
    }
    if (paths.isEmpty()) {
      err.println("Error: give the configuration with -f PATH (or a mesh file with --mesh FILE)");
      return 1;
    }
    List<Path> files;
    try {
      files = ConfigFiles.expand(paths);
    } catch (IOException e) {
      err.println("Error: " + e.getMessage());
      return 1;
    }
    List<Resource<?>> resources = new ArrayList<>();
    List<AnalysisMessage> messages = new ArrayList<>();
    MeshConfig mesh = MeshConfig.defaults();
    for (Path file : files) {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      if (ConfigFiles.isMeshConfig(file)) {
        DecodedMeshConfig d = codec.decodeMeshConfig(file.toString(), text);
        mesh = d.config();
        d.errors().forEach(m -> messages.add(schemaError(m)));
        new Validator()
            .validate(mesh, file.toString())
            .errors()
            .forEach(m -> messages.add(schemaError(m)));
        continue;
      }
      Decoded decoded = codec.decode(file.toString(), text);
      resources.addAll(decoded.resources());
      decoded.errors().forEach(m -> messages.add(schemaError(m)));
    }
    messages.addAll(Analyzers.run(new AnalysisContext(resources, mesh, registry), Analyzers.all()));
    boolean error = messages.stream().anyMatch(m -> m.level() == AnalysisMessage.Level.ERROR);
    switch (output) {
      case text -> {
        messages.forEach(out::println);
        if (messages.isEmpty()) {
          out.println(
              "\u2714 No validation issues found when analyzing "
                  + String.join(", ", paths.stream().map(Path::toString).toList())
                  + ".");
        }
        if (error) {
          err.println(
              "Error: Analyzers found issues when analyzing "
                  + String.join(", ", paths.stream().map(Path::toString).toList())
                  + ".");
          err.println(
              "See https://istio.io/latest/docs/reference/config/analysis for more information about causes and resolutions.");
        }
      }
      case json ->
          out.println(
              new ObjectMapper()
                  .enable(SerializationFeature.INDENT_OUTPUT)
                  .writeValueAsString(rows(messages)));
      case yaml -> out.print(new YAMLMapper().writeValueAsString(rows(messages)));
    }
    out.flush();
    err.flush();
    return error ? ISSUES_FOUND : 0;
  }

  private static AnalysisMessage schemaError(Message m) {
    String text = m.path().isEmpty() ? m.text() : m.path() + ": " + m.text();
    return new AnalysisMessage(
        "IST0106",
        "SchemaValidationError",
        AnalysisMessage.Level.ERROR,
        m.resource(),
        "Schema validation error: " + text);
  }

  private static List<Map<String, String>> rows(List<AnalysisMessage> messages) {
    List<Map<String, String>> rows = new ArrayList<>();
    for (AnalysisMessage m : messages) {
      Map<String, String> row = new LinkedHashMap<>();
      row.put("code", m.code());
      row.put("name", m.name());
      row.put("level", m.level().display());
      row.put("origin", m.origin());
      row.put("message", m.message());
      row.put("documentationUrl", m.documentationUrl());
      rows.add(row);
    }
    return rows;
  }
}
