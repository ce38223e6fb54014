package dev.bowline.proxy.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Envoy's component loggers over java.util.logging: each Envoy logger name that has a Bowline
 * counterpart stands for the JUL loggers of that part of the proxy ({@link #COMPONENTS}), and takes
 * Envoy's levels ({@code trace} ... {@code off}). What {@code POST /logging} and the command line's
 * {@code --log-level}/{@code --component-log-level} change.
 *
 * <p>java.util.logging holds its loggers weakly and a collected logger forgets its level, so every
 * logger of the table is kept here. Each is also given its own level when this class loads (the one
 * it had by inheritance): JUL levels are inherited down the name tree, Envoy's loggers are
 * independent, and {@code http} set to debug must not make {@code jwt} (a package under it) debug
 * too. A level below INFO would still be dropped by the JDK's console handler (INFO by default), so
 * lowering a logger lowers the root's handlers to that level as well: the loggers' levels filter.
 */
public final class ComponentLogs {
  private ComponentLogs() {}

  private static final System.Logger LOG = System.getLogger(ComponentLogs.class.getName());

  /** Envoy's {@code critical}, above SEVERE ({@code error}): nothing Bowline logs reaches it. */
  static final Level CRITICAL = new Level("CRITICAL", 1100) {};

  /** Envoy's level names and the JUL level each one is. */
  private static final Map<String, Level> LEVELS;

  static {
    var m = new LinkedHashMap<String, Level>();
    m.put("trace", Level.FINEST);
    m.put("debug", Level.FINE);
    m.put("info", Level.INFO);
    m.put("warning", Level.WARNING);
    m.put("error", Level.SEVERE);
    m.put("critical", CRITICAL);
    m.put("off", Level.OFF);
    LEVELS = java.util.Collections.unmodifiableMap(m);
  }

  /**
   * Envoy's logger names that Bowline has, and the JUL loggers (package or class names) each one
   * stands for. {@code hc} and {@code health_checker} are both Envoy's names for health checking:
   * they share the one logger.
   */
  public static final Map<String, List<String>> COMPONENTS =
      java.util.Collections.unmodifiableMap(
          new TreeMap<>(
              Map.ofEntries(
                  Map.entry("admin", List.of("dev.bowline.proxy.admin")),
                  Map.entry(
                      "config", List.of("dev.bowline.proxy.xds", "dev.bowline.proxy.bootstrap")),
                  Map.entry("conn_handler", List.of("dev.bowline.proxy.listener")),
                  Map.entry(
                      "connection",
                      List.of("dev.bowline.proxy.transport", "dev.bowline.proxy.tls.TlsSockets")),
                  Map.entry(
                      "ext_authz",
                      List.of(
                          "dev.bowline.proxy.http.filter.extauthz",
                          "dev.bowline.proxy.network.extauthz")),
                  Map.entry("file", List.of("dev.bowline.proxy.accesslog")),
                  Map.entry("hc", List.of("dev.bowline.proxy.upstream.HealthChecker")),
                  Map.entry("health_checker", List.of("dev.bowline.proxy.upstream.HealthChecker")),
                  Map.entry("http", List.of("dev.bowline.proxy.http")),
                  Map.entry(
                      "http2",
                      List.of(
                          "io.netty.handler.codec.http2",
                          "dev.bowline.proxy.transport.Http2Keepalive")),
                  Map.entry("jwt", List.of("dev.bowline.proxy.http.filter.jwt")),
                  Map.entry("main", List.of("dev.bowline.proxy.Proxy", "dev.bowline.proxycli")),
                  Map.entry("misc", List.of("io.netty", "io.grpc")),
                  Map.entry(
                      "rbac",
                      List.of(
                          "dev.bowline.proxy.network.rbac", "dev.bowline.proxy.http.filter.rbac")),
                  Map.entry("secret", List.of("dev.bowline.proxy.tls")),
                  Map.entry("tracing", List.of("dev.bowline.proxy.tracing")),
                  Map.entry(
                      "upstream", List.of("dev.bowline.proxy.upstream", "dev.bowline.proxy.lb")))));

  /** Every logger of {@link #COMPONENTS}, kept so that their levels stick. */
  private static final Map<String, Logger> KEPT = new LinkedHashMap<>();

  static {
    // a logger's inherited level first, before any of its ancestors is given one of its own
    List<Logger> loggers = new ArrayList<>();
    for (List<String> names : COMPONENTS.values()) {
      for (String name : names) {
        KEPT.computeIfAbsent(
            name,
            n -> {
              Logger l = Logger.getLogger(n);
              loggers.add(l);
              return l;
            });
      }
    }
    List<Level> effective = loggers.stream().map(ComponentLogs::effective).toList();
    for (int i = 0; i < loggers.size(); i++) {
      if (loggers.get(i).getLevel() == null) {
        loggers.get(i).setLevel(effective.get(i));
      }
    }
  }

  private static Level effective(Logger l) {
    for (Logger at = l; at != null; at = at.getParent()) {
      if (at.getLevel() != null) {
        return at.getLevel();
      }
    }
    return Level.INFO;
  }

  /** The JUL level of Envoy's level {@code name}; IllegalArgumentException for another name. */
  static Level level(String name) {
    Level l = LEVELS.get(name);
    if (l == null) {
      throw new IllegalArgumentException("unknown logger level");
    }
    return l;
  }

  /** Envoy's name of the JUL level {@code l}. */
  static String name(Level l) {
    int v = l.intValue();
    if (v <= Level.FINER.intValue()) {
      return "trace";
    } else if (v < Level.INFO.intValue()) {
      return "debug";
    } else if (v < Level.WARNING.intValue()) {
      return "info";
    } else if (v < Level.SEVERE.intValue()) {
      return "warning";
    } else if (v < CRITICAL.intValue()) {
      return "error";
    } else if (v < Level.OFF.intValue()) {
      return "critical";
    }
    return "off";
  }

  /** Envoy's level name of the component {@code name}. */
  public static synchronized String levelOf(String name) {
    return name(effective(KEPT.get(COMPONENTS.get(name).getFirst())));
  }

  /** Every component at {@code level} (an Envoy level name). */
  public static synchronized void setAll(String level) {
    Level l = level(level);
    LOG.log(System.Logger.Level.INFO, "change all log levels: level=''{0}''", level);
    for (Logger logger : KEPT.values()) {
      logger.setLevel(l);
    }
    lowerHandlers(l);
  }

  /**
   * Each component named at its level (Envoy level names); nothing changes unless every name and
   * level is known: IllegalArgumentException with Envoy's message otherwise.
   */
  public static synchronized void set(Map<String, String> levels) {
    Map<String, Level> parsed = new LinkedHashMap<>();
    for (var e : levels.entrySet()) {
      parsed.put(e.getKey(), level(e.getValue()));
    }
    for (String name : parsed.keySet()) {
      if (!COMPONENTS.containsKey(name)) {
        throw new IllegalArgumentException("unknown logger name");
      }
    }
    for (var e : parsed.entrySet()) {
      LOG.log(
          System.Logger.Level.INFO,
          "change log level: name=''{0}'' level=''{1}''",
          e.getKey(),
          name(e.getValue()));
      for (String logger : COMPONENTS.get(e.getKey())) {
        KEPT.get(logger).setLevel(e.getValue());
      }
      lowerHandlers(e.getValue());
    }
  }

  /**
   * Envoy's {@code --component-log-level}: {@code name:level,...} as a map of component to level
   * name, in order; IllegalArgumentException naming what is wrong.
   */
  public static Map<String, String> parse(String components) {
    Map<String, String> each = new LinkedHashMap<>();
    for (String pair : components.split(",", -1)) {
      int colon = pair.indexOf(':');
      if (colon <= 0 || colon == pair.length() - 1) {
        throw new IllegalArgumentException("want NAME:LEVEL,..., got '" + components + "'");
      }
      String name = pair.substring(0, colon);
      if (!COMPONENTS.containsKey(name)) {
        throw new IllegalArgumentException(
            "unknown logger name '" + name + "'; one of " + String.join(", ", COMPONENTS.keySet()));
      }
      each.put(name, checkLevel(pair.substring(colon + 1)));
    }
    return each;
  }

  /**
   * Envoy's {@code --log-level} ({@code level}, null for none), then {@code --component-log-level}
   * ({@code components}, from {@link #parse}).
   */
  public static synchronized void configure(
      @org.jspecify.annotations.Nullable String level, Map<String, String> components) {
    if (level != null) {
      setAll(checkLevel(level));
    }
    if (!components.isEmpty()) {
      set(components);
    }
  }

  /** {@code level} if it is one of Envoy's level names; IllegalArgumentException listing them. */
  public static String checkLevel(String level) {
    if (!LEVELS.containsKey(level)) {
      throw new IllegalArgumentException(
          "unknown level '" + level + "'; one of " + String.join(", ", LEVELS.keySet()));
    }
    return level;
  }

  /** The root's handlers let {@code l} through: the loggers' own levels filter. */
  private static void lowerHandlers(Level l) {
    for (Handler h : Logger.getLogger("").getHandlers()) {
      if (h.getLevel().intValue() > l.intValue()) {
        h.setLevel(l);
      }
    }
  }

  /** What {@code POST /logging} answers: the status (200 or 400) and the body. */
  public record Answer(boolean ok, String body) {}

  /**
   * Envoy's {@code /logging} ({@code LogsHandler::handlerLogging}): no parameter only lists; one of
   * {@code level=L} (every logger), {@code paths=a:L,b:L} or {@code <name>=L} changes levels;
   * anything else is a 400 with the error and Envoy's usage. The list of loggers and their levels
   * follows in every case.
   */
  public static Answer admin(Map<String, List<String>> params) {
    StringBuilder sb = new StringBuilder();
    boolean ok = true;
    if (!params.isEmpty()) {
      try {
        change(params);
      } catch (IllegalArgumentException e) {
        ok = false;
        sb.append("error: ").append(e.getMessage()).append("\n\n");
        sb.append("usage: /logging?<name>=<level> (change single level)\n");
        sb.append("usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n");
        sb.append("usage: /logging?level=<level> (change all levels)\n");
        sb.append("levels: ");
        for (String l : LEVELS.keySet()) {
          sb.append(l).append(' ');
        }
        sb.append('\n');
      }
    }
    sb.append("active loggers:\n");
    synchronized (ComponentLogs.class) {
      for (String name : COMPONENTS.keySet()) {
        sb.append("  ").append(name).append(": ").append(levelOf(name)).append('\n');
      }
    }
    return new Answer(ok, sb.append('\n').toString());
  }

  /** Envoy's {@code LogsHandler::changeLogLevel}. */
  private static void change(Map<String, List<String>> params) {
    if (params.size() != 1) {
      throw new IllegalArgumentException("invalid number of parameters");
    }
    var only = params.entrySet().iterator().next();
    String key = only.getKey();
    String value =
        only.getValue().isEmpty() ? "" : only.getValue().getFirst(); // as Envoy's, the first
    if (key.equals("level")) {
      setAll(levelName(value));
      return;
    }
    Map<String, String> levels = new LinkedHashMap<>();
    if (key.equals("paths")) {
      for (String pair : value.split(",")) {
        if (pair.isBlank()) {
          continue;
        }
        int colon = pair.indexOf(':');
        String name = colon < 0 ? pair : pair.substring(0, colon);
        String level = colon < 0 ? "" : pair.substring(colon + 1);
        if (name.isEmpty() || level.isEmpty()) {
          throw new IllegalArgumentException("empty logger name or empty logger level");
        }
        levels.put(name, levelName(level));
      }
    } else {
      levels.put(key, levelName(value));
    }
    set(levels);
  }

  private static String levelName(String value) {
    level(value); // throws Envoy's "unknown logger level"
    return value;
  }
}
