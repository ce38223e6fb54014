package dev.bowline.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code -f FILE|DIR} option of {@code bowline apply} and {@code bowline delete}. */
final class ConfigFiles {
  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "FILE|DIR",
      description = "Istio YAML/JSON files, or directories (recursively); repeatable.")
  List<Path> files = List.of();
}
