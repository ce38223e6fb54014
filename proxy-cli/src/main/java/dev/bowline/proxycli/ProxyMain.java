package dev.bowline.proxycli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Entry point of {@code cli/target/bowline-proxy.jar}, what every proxy process runs ({@code
 * ./bowline proxy}, the local runner's sidecars and gateways, the benchmarks): {@code bowline
 * proxy} and nothing else, on a class path of the proxy's own runtime jars instead of the whole
 * CLI's (decision 0038). Arguments, output and exit codes are those of {@code bowline proxy}.
 */
public final class ProxyMain {
  private ProxyMain() {}

  static {
    keepLogsAtExit(); // before the first logger below
  }

  /**
   * Makes {@link ExitLogManager} the JVM's logging manager unless one is named already, so that a
   * proxy's last line ({@code event=proxy_stopped}) is written when the JVM itself shuts down. Call
   * before anything makes a logger (the manager is chosen once, when {@code LogManager}
   * initialises). Kept out of {@code ExitLogManager}: calling a static method of that class would
   * initialise its superclass {@code LogManager} first, which picks its manager before the property
   * is set.
   */
  public static void keepLogsAtExit() {
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", ExitLogManager.class.getName());
    }
  }

  /**
   * grpc-netty asks every channel for SO_KEEPALIVE, which the Unix sockets of SDS do not have, and
   * Netty's bootstraps warn about it once per channel (as {@code dev.bowline.cli.Main} says). Kept
   * strongly here so the level sticks.
   */
  private static final java.util.logging.Logger NETTY_BOOTSTRAP =
      java.util.logging.Logger.getLogger("io.netty.bootstrap");

  /** {@code java -jar bowline-proxy.jar proxy -c bootstrap.yaml ...}. */
  public static void main(String[] args) {
    nettyLogsToJul();
    NETTY_BOOTSTRAP.setLevel(java.util.logging.Level.SEVERE);
    if (args.length == 0 || !args[0].equals("proxy")) {
      System.err.println(
          "bowline-proxy.jar runs 'bowline proxy' only: java -jar bowline-proxy.jar proxy -c"
              + " BOOTSTRAP [options]; every other command is in bowline.jar");
      System.exit(2);
    }
    var cmd = commandLine();
    var proxy = (ProxyCommand) cmd.getSubcommands().get("proxy").getCommand();
    proxy.returnWhenStarted = true;
    int exit = cmd.execute(args);
    if (exit == 0) {
      try {
        proxy.awaitTermination(); // here, in main's own shallow frame (decision 0037, addendum 11)
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    System.exit(exit);
  }

  /**
   * Netty's loggers write to java.util.logging, as they would anyway: left to itself, Netty's first
   * logger probes the class path for SLF4J, Log4J 2 and Log4J (failed class lookups, each with its
   * exception) before it settles on JUL, since a proxy's class path has none of them (decision
   * 0043). Called before any Netty class logs.
   */
  static void nettyLogsToJul() {
    io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
        io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
  }

  /**
   * {@code bowline} with its {@code proxy} subcommand only: picocli inspects every subcommand it is
   * given, so a proxy builds no other (decision 0030). Usage and errors still say {@code bowline
   * proxy}. Both are built with picocli's programmatic API ({@link ProxyCommand#spec}), not from
   * annotations (decision 0043, session 13 addendum).
   */
  public static CommandLine commandLine() {
    CommandSpec root = CommandSpec.wrapWithoutInspection(new ProxyOnlyCommand()).name("bowline");
    CommandLine cmd = new CommandLine(root);
    cmd.addSubcommand(ProxyCommand.NAME, new CommandLine(ProxyCommand.spec(new ProxyCommand())));
    return withErrorHandler(cmd);
  }

  /**
   * {@code cmd} with the {@code bowline} command's handler of failed executions: one line, {@code
   * bowline <command>: <exception>}, exit 1.
   */
  public static CommandLine withErrorHandler(CommandLine cmd) {
    cmd.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          commandLine.getErr().println("bowline " + commandLine.getCommandName() + ": " + ex);
          return 1;
        });
    return cmd;
  }

  /** {@code bowline} with its {@code proxy} subcommand only: what a proxy process runs. */
  static final class ProxyOnlyCommand implements Runnable {
    @Override
    public void run() {}
  }
}
