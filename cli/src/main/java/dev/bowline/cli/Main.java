package dev.bowline.cli;

import picocli.CommandLine;

/** Entry point of the {@code bowline} command. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs one command line and returns its exit code (0 ok, 1 failure, 2 usage error). */
  public static int run(String... args) {
    return newCommandLine().execute(args);
  }

  static CommandLine newCommandLine() {
    CommandLine cmd = new CommandLine(new BowlineCommand());
    cmd.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          commandLine.getErr().println("bowline " + commandLine.getCommandName() + ": " + ex);
          return 1;
        });
    return cmd;
  }
}
