package dev.bowline.cli;

import dev.bowline.proxycli.ProxyCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bowline}: the top-level command; run alone, it asks for a subcommand. */
@Command(
    name = "bowline",
    mixinStandardHelpOptions = true,
    versionProvider = VersionInfo.Provider.class,
    description = {
      "An Istio-compatible service mesh: Istio YAML in, Envoy xDS v3 on the wire.",
    },
    subcommands = {
      VersionCommand.class,
      DemoCommand.class,
      UpCommand.class,
      ControlPlaneCommand.class,
      ProxyCommand.class,
      ValidateCommand.class,
      AnalyzeCommand.class,
      ApplyCommand.class,
      DeleteCommand.class,
      ProxyStatusCommand.class,
      ProxyConfigCommand.class,
      DashboardCommand.class,
    })
final class BowlineCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand");
  }
}
