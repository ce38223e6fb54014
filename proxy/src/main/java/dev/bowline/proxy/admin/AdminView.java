package dev.bowline.proxy.admin;

/** What the admin server shows and does; implemented by the running proxy. */
public interface AdminView {
  /** Whether the proxy has its first config applied and its listeners bound. */
  boolean ready();

  /** Envoy's {@code /config_dump} JSON; {@code includeEds} adds the endpoints dump. */
  String configDump(boolean includeEds);

  /** Envoy's {@code /clusters} text. */
  String clusters();

  /** Envoy's {@code /listeners} text. */
  String listeners();

  /** Envoy's {@code /stats} text, of the stats whose names {@code filter} takes. */
  String stats(java.util.function.Predicate<String> filter);

  /** Envoy's {@code /stats/prometheus} text. */
  String prometheus();

  /** Envoy's {@code /server_info} JSON. */
  String serverInfo();

  /**
   * {@code /drain_listeners}: stop accepting, let connections finish until the drain time ends,
   * then close what is left.
   */
  void drainListeners();

  /** {@code /quitquitquit}: stop the proxy soon (after the response is sent). */
  void quit();
}
