package dev.bowline.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code bowline version}: version, git commit, Java version and the Netty transport in use. */
@Command(
    name = "version",
    mixinStandardHelpOptions = true,
    description = "Print the version, git commit, Java version and Netty transport.")
final class VersionCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    for (String line : VersionInfo.current().lines()) {
      out.println(line);
    }
    out.flush();
    return 0;
  }
}
