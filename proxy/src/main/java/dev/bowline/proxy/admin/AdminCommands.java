package dev.bowline.proxy.admin;

import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The admin server's commands, one table as Envoy's {@code AdminImpl} handler list: each path with
 * Envoy's help text, whether it changes the server's state (then it takes POST only) and the query
 * parameters Bowline honours, with Envoy's texts. {@code /help}, the 404 of an unknown path and the
 * home page {@code /} are all printed from it.
 */
public final class AdminCommands {
  private AdminCommands() {}

  /**
   * A query parameter of a command: its name, Envoy's help text and, for an enum, its choices
   * (empty otherwise).
   */
  public record Param(String id, String help, List<String> choices) {
    static Param of(String id, String help, String... choices) {
      return new Param(id, help, List.of(choices));
    }
  }

  /** A command: its path, Envoy's help text, whether it needs POST, its parameters. */
  public record Command(String path, String help, boolean mutates, List<Param> params) {
    static Command get(String path, String help, Param... params) {
      return new Command(path, help, false, List.of(params));
    }

    static Command post(String path, String help, Param... params) {
      return new Command(path, help, true, List.of(params));
    }
  }

  /** Envoy's logging levels, as spdlog names them, lowest first. */
  static final List<String> LEVELS =
      List.of("trace", "debug", "info", "warning", "error", "critical", "off");

  /** The commands, sorted by path as Envoy prints them. */
  public static final List<Command> COMMANDS =
      java.util.stream.Stream.of(
              Command.get("/", "Admin home page"),
              Command.get("/certs", "print certs on machine"),
              Command.get("/clusters", "upstream cluster status"),
              Command.get(
                  "/config_dump",
                  "dump current Envoy configs (experimental)",
                  Param.of("resource", "The resource to dump"),
                  Param.of(
                      "mask",
                      "The mask to apply. When both resource and mask are specified, the mask is"
                          + " applied to every element in the desired repeated field so that only a"
                          + " subset of fields are returned. The mask is parsed as a"
                          + " ProtobufWkt::FieldMask"),
                  Param.of(
                      "name_regex",
                      "Dump only the currently loaded configurations whose names match the"
                          + " specified regex. Can be used with both resource and mask query"
                          + " parameters."),
                  Param.of(
                      "include_eds",
                      "Dump currently loaded configuration including EDS. See the response"
                          + " definition for more information")),
              Command.post(
                  "/drain_listeners",
                  "drain listeners",
                  Param.of(
                      "graceful",
                      "When draining listeners, enter a graceful drain period prior to closing"
                          + " listeners. This behaviour and duration is configurable via server"
                          + " options or CLI"),
                  Param.of(
                      "skip_exit",
                      "When draining listeners, do not exit after the drain period. This must be"
                          + " used with graceful"),
                  Param.of(
                      "inboundonly",
                      "Drains all inbound listeners. traffic_direction field in"
                          + " envoy_v3_api_msg_config.listener.v3.Listener is used to determine"
                          + " whether a listener is inbound or outbound.")),
              Command.post("/healthcheck/fail", "cause the server to fail health checks"),
              Command.post("/healthcheck/ok", "cause the server to pass health checks"),
              Command.get("/help", "print out list of admin commands"),
              Command.get(
                  "/init_dump",
                  "dump current Envoy init manager information (experimental)",
                  Param.of(
                      "mask",
                      "The desired component to dump unready targets. The mask is parsed as a"
                          + " ProtobufWkt::FieldMask. For example, get the unready targets of all"
                          + " listeners with /init_dump?mask=listener`")),
              Command.get(
                  "/listeners",
                  "print listener info",
                  Param.of("format", "File format to use", "text", "json")),
              Command.post(
                  "/logging",
                  "query/change logging levels",
                  Param.of(
                      "paths",
                      "Change multiple logging levels by setting to"
                          + " <logger_name1>:<desired_level1>,<logger_name2>:<desired_level2>."
                          + " If fine grain logging is enabled, use __FILE__ or a glob"
                          + " experision as the logger name. For example,"
                          + " source/common*:warning"),
                  new Param(
                      "level",
                      "desired logging level, this will change all loggers's level",
                      java.util.stream.Stream.concat(
                              java.util.stream.Stream.of(""), LEVELS.stream())
                          .toList())),
              Command.get("/memory", "print current allocation/heap usage"),
              Command.post("/quitquitquit", "exit the server"),
              Command.get("/ready", "print server state, return 200 if LIVE, otherwise return 503"),
              Command.post("/reopen_logs", "reopen access logs"),
              Command.get("/runtime", "print runtime values"),
              Command.get("/server_info", "print server version/status information"),
              Command.get(
                  "/stats",
                  "print server stats",
                  Param.of(
                      "usedonly",
                      "Only include stats that have been written by system since restart"),
                  Param.of("filter", "Regular expression (Google re2) for filtering stats"),
                  Param.of("format", "Format to use", "text", "json", "prometheus"),
                  Param.of(
                      "type",
                      "Stat types to include.",
                      "All",
                      "Counters",
                      "Histograms",
                      "Gauges",
                      "TextReadouts")),
              Command.post("/reset_counters", "reset all counters to zero"),
              Command.get(
                  "/stats/prometheus",
                  "print server stats in prometheus format",
                  Param.of(
                      "usedonly",
                      "Only include stats that have been written by system since restart"),
                  Param.of(
                      "text_readouts",
                      "Render text_readouts as new gaugues with value 0 (increases Prometheus data"
                          + " size)"),
                  Param.of("filter", "Regular expression (Google re2) for filtering stats")))
          .sorted(Comparator.comparing(Command::path))
          .toList();

  /** The command at exactly {@code path}, or null. */
  public static @Nullable Command find(String path) {
    for (Command c : COMMANDS) {
      if (c.path().equals(path)) {
        return c;
      }
    }
    return null;
  }

  /**
   * Envoy's {@code AdminImpl::getHelp}: "admin commands are:", then each command sorted by path
   * ({@code " (POST)"} after those that need it) with its parameters indented under it, an enum's
   * choices after its help.
   */
  public static String help() {
    StringBuilder sb = new StringBuilder("admin commands are:\n");
    for (Command c : COMMANDS) {
      sb.append("  ")
          .append(c.path())
          .append(c.mutates() ? " (POST)" : "")
          .append(": ")
          .append(c.help())
          .append('\n');
      for (Param p : c.params()) {
        sb.append("      ").append(p.id()).append(": ").append(p.help());
        if (!p.choices().isEmpty()) {
          sb.append("; One of (").append(String.join(", ", p.choices())).append(')');
        }
        sb.append('\n');
      }
    }
    return sb.toString();
  }

  /**
   * The home page: a table of the commands as Envoy's, a link for each one read with GET and a
   * button posting a form (its parameters as fields) for each one that needs POST.
   */
  public static String homePage() {
    StringBuilder sb =
        new StringBuilder(
            "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<title>Envoy Admin</title>\n"
                + "</head>\n<body>\n<table class='home-table'>\n<thead>\n<tr>\n"
                + "<th class='home-data'>Command</th>\n"
                + "<th class='home-data'>Description</th>\n</tr>\n</thead>\n<tbody>\n");
    for (Command c : COMMANDS) {
      if (c.path().equals("/")) {
        continue;
      }
      sb.append("<tr class='home-row'>\n<td class='home-data'>");
      if (c.mutates()) {
        sb.append("<form action='")
            .append(c.path())
            .append("' method='post'><button class='button-as-link'>")
            .append(c.path().substring(1))
            .append("</button>");
        sb.append("</form>");
      } else {
        sb.append("<a href='")
            .append(c.path())
            .append("'>")
            .append(c.path().substring(1))
            .append("</a>");
      }
      sb.append("</td>\n<td class='home-data'>").append(escape(c.help())).append("</td>\n</tr>\n");
    }
    return sb.append("</tbody>\n</table>\n</body>\n</html>\n").toString();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
