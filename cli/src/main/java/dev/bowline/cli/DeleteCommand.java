package dev.bowline.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bowline delete -f FILE|DIR}: removes the resources the files name from a running mesh. */
@Command(
    name = "delete",
    mixinStandardHelpOptions = true,
    description = {
      "Delete the Istio resources named in the files from a running mesh (like kubectl delete -f)."
    })
final class DeleteCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "FILE|DIR",
      description = "Istio YAML/JSON files, or directories (recursively); repeatable.")
  List<Path> files;

  @Option(
      names = "--control-plane",
      defaultValue = ControlPlaneClient.DEFAULT_URL,
      description = "The control plane's monitoring URL (default: ${DEFAULT-VALUE}).")
  String controlPlane = ControlPlaneClient.DEFAULT_URL;

  @Override
  public Integer call() throws InterruptedException {
    return ConfigRequest.run(
        "delete", files, controlPlane, spec.commandLine().getOut(), spec.commandLine().getErr());
  }
}
