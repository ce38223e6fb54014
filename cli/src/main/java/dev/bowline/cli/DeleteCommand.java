package dev.bowline.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
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

  @Mixin ConfigFiles files;

  @Mixin ControlPlaneUrl controlPlane;

  @Override
  public Integer call() throws InterruptedException {
    return ConfigRequest.run(
        "delete",
        files.files,
        controlPlane.url,
        spec.commandLine().getOut(),
        spec.commandLine().getErr());
  }
}
