package dev.bowline.proxycli;

/**
 * java.util.logging's manager for a proxy process: the same as the JDK's, except that it keeps its
 * handlers while the JVM shuts down. The JDK's manager resets itself (closes and drops every
 * handler) in a shutdown hook of its own, which runs alongside the proxy's: when the JVM itself
 * starts the shutdown (SIGHUP; {@code System.exit} elsewhere), the proxy drains in its hook and its
 * last line, {@code event=proxy_stopped}, went nowhere once the reset had run first. The console
 * handler flushes each record, so nothing is left unwritten at exit. Named by {@code
 * java.util.logging.manager} before the first logger is made ({@link ProxyMain#keepLogsAtExit}).
 */
public final class ExitLogManager extends java.util.logging.LogManager {
  /** Public and no-argument: {@code LogManager} instantiates the class it is given by name. */
  public ExitLogManager() {}

  @Override
  public void reset() {
    if (!shuttingDown()) {
      super.reset();
    }
  }

  private static boolean shuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException e) {
      return true; // the JVM is shutting down
    }
  }
}
