package dev.bowline.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
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

  @Mixin ConfigFiles files;

  @Mixin ControlPlaneUrl controlPlane;

  @Override
  public Integer call() throws InterruptedException {
    return ConfigRequest.run(
        "apply",
        files.files,
        controlPlane.url,
        spec.commandLine().getOut(),
        spec.commandLine().getErr());
  }
}
