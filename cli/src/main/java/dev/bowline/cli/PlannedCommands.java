package dev.bowline.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * The subcommands that later work fills in. Each is listed in {@code bowline --help} so the shape
 * of the CLI is visible; run before it exists, it says which issue tracks it and exits 3. A
 * subcommand moves out of this file into its own class when it gets its implementation.
 */
final class PlannedCommands {
  private PlannedCommands() {}

  /** Exit code of a subcommand that is not built yet. */
  static final int NOT_BUILT = 3;

  abstract static class Planned implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Unmatched java.util.List<String> ignored;

    abstract int issue();

    @Override
    public Integer call() {
      spec.commandLine()
          .getErr()
          .println(
              "bowline "
                  + spec.name()
                  + ": not built yet (tracked in issue #"
                  + issue()
                  + "); see README.md for what runs today");
      return NOT_BUILT;
    }
  }
}
