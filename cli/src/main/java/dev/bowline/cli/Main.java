package dev.bowline.cli;

import picocli.CommandLine;

/** Entry point of the {@code bowline} command. */
public final class Main {
  private Main() {}

  /**
   * grpc-netty asks every channel for SO_KEEPALIVE, which the Unix sockets of SDS (agent and proxy)
   * do not have, and Netty's bootstraps warn about it once per channel: noise that hid real
   * warnings in {@code bowline up}. Kept strongly here so the level sticks.
   */
  private static final java.util.logging.Logger NETTY_BOOTSTRAP =
      java.util.logging.Logger.getLogger("io.netty.bootstrap");

  public static void main(String[] args) {
    NETTY_BOOTSTRAP.setLevel(java.util.logging.Level.SEVERE);
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
