package dev.bowline.cli;

import dev.bowline.proxycli.ProxyMain;
import picocli.CommandLine;

/** Entry point of the {@code bowline} command. */
public final class Main {
  private Main() {}

  static {
    // before the first logger below: a proxy's last line survives the JVM's own shutdown
    ProxyMain.keepLogsAtExit();
  }

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
    return commandLineFor(args).execute(args);
  }

  /** The command tree {@link #run} uses for {@code args}. */
  static CommandLine commandLineFor(String... args) {
    return newCommandLine(args.length > 0 && args[0].equals("proxy"));
  }

  static CommandLine newCommandLine() {
    return newCommandLine(false);
  }

  /**
   * The command tree; with {@code proxyOnly}, only {@code bowline proxy}: picocli inspects every
   * subcommand it is given, and loading all of them (control plane, CLI clients) cost a proxy ~0.15
   * s of start-up and the metaspace of classes it never runs (decision 0030). A proxy process runs
   * that tree from {@code bowline-proxy.jar} ({@link ProxyMain}, decision 0038).
   */
  static CommandLine newCommandLine(boolean proxyOnly) {
    return proxyOnly
        ? ProxyMain.commandLine()
        : ProxyMain.withErrorHandler(new CommandLine(new BowlineCommand()));
  }
}
