package dev.bowline.proxy.admin;

/** What the admin server shows and does; implemented by the running proxy. */
public interface AdminView {
  /**
   * Envoy's server state ({@code Utility::serverState}): {@code PRE_INITIALIZING}, {@code
   * INITIALIZING}, {@code LIVE}, or {@code DRAINING} once initialised while the health check is
   * failed ({@code /healthcheck/fail}) or the proxy drains.
   */
  String state();

  /** An answer of its own status and content type. */
  record Reply(int status, String body, String contentType) {}

  /**
   * Envoy's {@code /config_dump}: {@code includeEds} adds the endpoints dump; {@code resource},
   * {@code mask} and {@code nameRegex} (each null when not given) as Envoy's parameters.
   */
  Reply configDump(
      boolean includeEds,
      @org.jspecify.annotations.Nullable String resource,
      @org.jspecify.annotations.Nullable String mask,
      @org.jspecify.annotations.Nullable String nameRegex);

  /** Envoy's {@code /clusters} text. */
  String clusters();

  /** Envoy's {@code /clusters?format=json}: an {@code envoy.admin.v3.Clusters} in JSON. */
  String clustersJson();

  /** Envoy's {@code /listeners?format=json}: an {@code envoy.admin.v3.Listeners} in JSON. */
  String listenersJson();

  /** Envoy's {@code /listeners} text. */
  String listeners();

  /**
   * Envoy's {@code /stats} text, or its JSON when {@code json}, of the stats of Envoy's {@code
   * type} ({@code All}, {@code Counters}, ...) whose names {@code filter} takes, only those ever
   * written when {@code usedOnly}.
   */
  String stats(
      java.util.function.Predicate<String> filter, String type, boolean json, boolean usedOnly);

  /** Envoy's {@code /reset_counters}: every counter to zero. */
  void resetCounters();

  /**
   * Envoy's {@code /stats/prometheus} text of the stats whose names {@code filter} takes (all when
   * null), only those ever written when {@code usedOnly}.
   */
  String prometheus(
      java.util.function.@org.jspecify.annotations.Nullable Predicate<String> filter,
      boolean usedOnly);

  /** Envoy's {@code /server_info} JSON. */
  String serverInfo();

  /**
   * Envoy's {@code /drain_listeners}: connections are told to drain ({@code connection: close},
   * GOAWAY) and the listeners stop accepting, at once, or after the drain time when {@code
   * graceful}, or never when {@code skipExit}; only the {@code INBOUND} listeners' when {@code
   * inboundOnly}.
   */
  void drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit);

  /** {@code /healthcheck/fail} (true) and {@code /healthcheck/ok} (false). */
  void failHealthCheck(boolean fail);

  /** {@code /reopen_logs}: the access logs' files are reopened by their paths. */
  void reopenLogs();

  /** Envoy's {@code /certs}: an {@code envoy.admin.v3.Certificates} in JSON. */
  String certs();

  /** Envoy's {@code /memory}: an {@code envoy.admin.v3.Memory} in JSON, from the JVM's numbers. */
  String memory();

  /** Envoy's {@code /runtime}: the runtime layers and their entries in JSON. */
  String runtime();

  /**
   * Envoy's {@code /init_dump}: an {@code envoy.admin.v3.UnreadyTargetsDumps} in JSON of the
   * component {@code mask} names (all when null).
   */
  String initDump(@org.jspecify.annotations.Nullable String mask);

  /** {@code /quitquitquit}: stop the proxy soon (after the response is sent). */
  void quit();
}
