package dev.bowline.cli;

import dev.bowline.api.Decoded;
import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.Validation;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.ConfigFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bowline validate -f PATH...}: checks Istio YAML/JSON files (directories recursively) the
 * way Istio does. Prints each error on its own line on stderr, {@code "file" is valid} on stdout
 * for each good file; exits 0 when all are valid, 1 otherwise.
 */
@Command(
    name = "validate",
    mixinStandardHelpOptions = true,
    description = {
      "Validate Istio configuration files as Istio does (kinds, fields, values).",
      "Errors go to stderr, one per line: <Kind> <namespace>/<name>: <field path>: <problem>.",
      "Exit code: 0 when every file is valid, 1 when any error was found."
    })
final class ValidateCommand implements Callable<Integer> {
  /** {@code -f -} reads the standard input, as kubectl and istioctl do. */
  static final Path STDIN = Path.of("-");

  @Spec CommandSpec spec;

  /** Where {@code -f -} reads from; tests replace it. */
  InputStream stdin = System.in;

  @Option(
      names = {"-f", "--filename"},
      required = true,
      arity = "1..*",
      paramLabel = "PATH",
      description =
          "Files or directories (searched recursively for *.yaml, *.yml, *.json); - for stdin.")
  List<Path> paths = new ArrayList<>();

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
    Validator validator = new Validator();
    int errors = 0;
    List<Path> files;
    boolean readStdin = paths.contains(STDIN);
    try {
      files =
          new ArrayList<>(
              ConfigFiles.expand(paths.stream().filter(p -> !p.equals(STDIN)).toList()));
    } catch (IOException e) {
      err.println("Error: " + e.getMessage());
      return 1;
    }
    if (readStdin) {
      files.add(STDIN);
    }
    for (Path file : files) {
      List<Message> fileErrors = new ArrayList<>();
      List<Message> warnings = new ArrayList<>();
      String text =
          file.equals(STDIN)
              ? new String(stdin.readAllBytes(), StandardCharsets.UTF_8)
              : Files.readString(file, StandardCharsets.UTF_8);
      if (ConfigFiles.isMeshConfig(file)) {
        DecodedMeshConfig mesh = codec.decodeMeshConfig(file.toString(), text);
        fileErrors.addAll(mesh.errors());
        if (mesh.errors().isEmpty()) {
          Validation v = validator.validate(mesh.config(), file.toString());
          fileErrors.addAll(v.errors());
          warnings.addAll(v.warnings());
        }
      } else {
        Decoded decoded = codec.decode(file.toString(), text);
        fileErrors.addAll(decoded.errors());
        for (Resource<?> r : decoded.resources()) {
          Validation v = validator.validate(r);
          fileErrors.addAll(v.errors());
          warnings.addAll(v.warnings());
        }
      }
      warnings.forEach(w -> err.println("Warning: " + w));
      fileErrors.forEach(err::println);
      if (fileErrors.isEmpty()) {
        out.println("\"" + file + "\" is valid");
      }
      errors += fileErrors.size();
    }
    out.flush();
    err.flush();
    return errors == 0 ? 0 : 1;
  }
}
