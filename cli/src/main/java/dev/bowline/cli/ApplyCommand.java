package dev.bowline.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bowline apply -f FILE|DIR}: Istio config into a running control plane, all or nothing. */
@Command(
    name = "apply",
    mixinStandardHelpOptions = true,
    description = {
      "Apply Istio configuration to a running mesh (bowline up/demo, bowline control-plane).",
      "Every resource is validated first: one error refuses the whole apply and nothing changes."
    })
final class ApplyCommand implements Callable<Integer> {
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
        "apply", files, controlPlane, spec.commandLine().getOut(), spec.commandLine().getErr());
  }
}
