package dev.bowline.proxy.accesslog;

import dev.bowline.proxy.http.filter.StreamInfo;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A compiled Envoy access-log format: text ({@code text_format_source}) or JSON ({@code
 * json_format}: keys to format strings). Compiled once when the listener is parsed; rendering walks
 * the parts. Unknown commands are errors naming them.
 */
public final class LogFormat {
  /** Envoy's default text format (when none is given). */
  public static final String ENVOY_DEFAULT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
          + "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
          + "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
          + "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

  private static final DateTimeFormatter ISO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private static final Set<String> NO_ARG =
      Set.of(
          "START_TIME",
          "RESPONSE_CODE",
          "RESPONSE_FLAGS",
          "RESPONSE_CODE_DETAILS",
          "CONNECTION_TERMINATION_DETAILS",
          "UPSTREAM_TRANSPORT_FAILURE_REASON",
          "BYTES_RECEIVED",
          "BYTES_SENT",
          "DURATION",
          "REQUEST_DURATION",
          "RESPONSE_DURATION",
          "UPSTREAM_HOST",
          "UPSTREAM_CLUSTER",
          "UPSTREAM_LOCAL_ADDRESS",
          "DOWNSTREAM_LOCAL_ADDRESS",
          "DOWNSTREAM_REMOTE_ADDRESS",
          "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
          "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
          "REQUESTED_SERVER_NAME",
          "ROUTE_NAME",
          "PROTOCOL",
          "HOSTNAME");

  private final List<Part> text; // text format; empty for JSON
  private final List<Map.Entry<String, List<Part>>> json; // JSON format; empty for text

  private LogFormat(List<Part> text, List<Map.Entry<String, List<Part>>> json) {
    this.text = text;
    this.json = json;
  }

  /** A text format. */
  public static LogFormat text(String format) {
    return new LogFormat(compile(format), List.of());
  }

  /** A JSON format: one key per entry, in order, each value a format string. */
  public static LogFormat json(Map<String, String> keys) {
    List<Map.Entry<String, List<Part>>> out = new ArrayList<>();
    for (var e : keys.entrySet()) {
      try {
        out.add(Map.entry(e.getKey(), compile(e.getValue())));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(e.getKey() + ": " + ex.getMessage());
      }
    }
    return new LogFormat(List.of(), List.copyOf(out));
  }

  /** Whether this is a JSON format. */
  public boolean isJson() {
    return !json.isEmpty();
  }

  /** One line for {@code info}, newline-terminated for JSON (text formats carry their own). */
  public String render(StreamInfo info) {
    StringBuilder sb = new StringBuilder(256);
    if (json.isEmpty()) {
      for (Part p : text) {
        p.append(sb, info, false);
      }
      return sb.toString();
    }
    sb.append('{');
    boolean first = true;
    for (var e : json) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      quote(sb, e.getKey());
      sb.append(':');
      List<Part> parts = e.getValue();
      if (parts.size() == 1 && parts.getFirst() instanceof Command c && c.numeric()) {
        StringBuilder v = new StringBuilder();
        c.append(v, info, true);
        sb.append(v.toString().equals("-") ? "null" : v);
      } else {
        StringBuilder v = new StringBuilder();
        boolean allMissing = true;
        for (Part p : parts) {
          int before = v.length();
          p.append(v, info, true);
          if (!(p instanceof Command && v.substring(before).equals("-"))) {
            allMissing = false;
          }
        }
        if (allMissing && parts.size() == 1) {
          sb.append("null");
        } else {
          quote(sb, v.toString());
        }
      }
    }
    return sb.append("}\n").toString();
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  private sealed interface Part {
    void append(StringBuilder sb, StreamInfo info, boolean json);
  }

  private record Literal(String text) implements Part {
    @Override
    public void append(StringBuilder sb, StreamInfo info, boolean json) {
      sb.append(text);
    }
  }

  /**
   * One {@code %COMMAND(arg)%:max} operator.
   *
   * @param name the command
   * @param header for REQ/RESP/TRAILER: the header, else null
   * @param altHeader REQ(X?Y): the header tried when X is absent
   * @param max truncation length, or -1
   */
  private record Command(
      String name,
      @org.jspecify.annotations.Nullable String header,
      @org.jspecify.annotations.Nullable String altHeader,
      int max)
      implements Part {
    boolean numeric() {
      return switch (name) {
        case "RESPONSE_CODE",
            "BYTES_RECEIVED",
            "BYTES_SENT",
            "DURATION",
            "REQUEST_DURATION",
            "RESPONSE_DURATION" ->
            true;
        default -> false;
      };
    }

    @Override
    public void append(StringBuilder sb, StreamInfo info, boolean json) {
      String v = value(info);
      if (v == null || v.isEmpty()) {
        v = "-";
      }
      if (max >= 0 && v.length() > max) {
        v = v.substring(0, max);
      }
      sb.append(v);
    }

    private @org.jspecify.annotations.Nullable String value(StreamInfo info) {
      return switch (name) {
        case "START_TIME" -> ISO.format(Instant.ofEpochMilli(info.startEpochMillis()));
        case "RESPONSE_CODE" -> Integer.toString(info.responseCode());
        case "RESPONSE_FLAGS" -> info.responseFlags().toString();
        case "BYTES_RECEIVED" -> Long.toString(info.bytesReceived());
        case "BYTES_SENT" -> Long.toString(info.bytesSent());
        case "DURATION" -> Long.toString(info.durationNanos() / 1_000_000);
        case "REQUEST_DURATION" -> "-";
        case "RESPONSE_DURATION" ->
            info.responseStartNanos() == 0
                ? null
                : Long.toString(info.responseStartNanos() / 1_000_000);
        case "UPSTREAM_HOST" -> info.upstreamHost();
        case "UPSTREAM_CLUSTER" -> info.upstreamCluster();
        case "DOWNSTREAM_LOCAL_ADDRESS" -> info.downstreamLocalAddress();
        case "DOWNSTREAM_REMOTE_ADDRESS" -> info.downstreamRemoteAddress();
        case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" -> withoutPort(info.downstreamLocalAddress());
        case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" ->
            withoutPort(info.downstreamRemoteAddress());
        case "ROUTE_NAME" -> info.routeName();
        case "PROTOCOL" -> info.protocol();
        case "REQ" -> header(info, true);
        case "RESP" -> header(info, false);
        case "DYNAMIC_METADATA" -> dynamicMetadata(info, java.util.Objects.requireNonNull(header));
        default -> null; // known but not tracked yet: RESPONSE_CODE_DETAILS, ... print "-"
      };
    }

    private @org.jspecify.annotations.Nullable String header(StreamInfo info, boolean request) {
      String v = one(info, request, java.util.Objects.requireNonNull(header));
      if (v == null && altHeader != null) {
        v = one(info, request, altHeader);
      }
      return v;
    }

    private static @org.jspecify.annotations.Nullable String one(
        StreamInfo info, boolean request, String name) {
      if (request) {
        return switch (name) {
          case ":method" -> info.method();
          case ":path" -> info.path();
          case ":authority" -> info.requestHeaders().get("host");
          case ":scheme" -> info.requestHeaders().get("x-forwarded-proto");
          default -> info.requestHeaders().get(name);
        };
      }
      var h = info.responseHeaders();
      if (name.equals(":status")) {
        return info.responseCode() == 0 ? null : Integer.toString(info.responseCode());
      }
      return h == null ? null : h.get(name);
    }

    /**
     * {@code %DYNAMIC_METADATA(NAMESPACE:KEY:...)%}: the value at that path of the filter's
     * metadata; strings as they are, anything else as JSON.
     */
    private static @org.jspecify.annotations.Nullable String dynamicMetadata(
        StreamInfo info, String arg) {
      String[] path = arg.split(":");
      com.google.protobuf.Struct s = info.dynamicMetadata(path[0]);
      if (s == null) {
        return null;
      }
      com.google.protobuf.Value v =
          com.google.protobuf.Value.newBuilder().setStructValue(s).build();
      for (int i = 1; i < path.length; i++) {
        if (!v.hasStructValue()) {
          return null;
        }
        v = v.getStructValue().getFieldsMap().get(path[i]);
        if (v == null) {
          return null;
        }
      }
      if (v.hasStringValue()) {
        return v.getStringValue();
      }
      try {
        return com.google.protobuf.util.JsonFormat.printer()
            .omittingInsignificantWhitespace()
            .print(v);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        return null;
      }
    }

    private static String withoutPort(String address) {
      int colon = address.lastIndexOf(':');
      return colon > 0 ? address.substring(0, colon) : address;
    }
  }

  /** Parses {@code format} into literals and commands. */
  static List<Part> compile(String format) {
    List<Part> parts = new ArrayList<>();
    StringBuilder lit = new StringBuilder();
    int i = 0;
    while (i < format.length()) {
      char c = format.charAt(i);
      if (c != '%') {
        lit.append(c);
        i++;
        continue;
      }
      if (i + 1 < format.length() && format.charAt(i + 1) == '%') {
        lit.append('%'); // %% is a literal percent sign
        i += 2;
        continue;
      }
      int end = format.indexOf('%', i + 1);
      if (end < 0) {
        throw new IllegalArgumentException(
            "unterminated command at " + i + ": '" + format.substring(i) + "'");
      }
      String body = format.substring(i + 1, end);
      int next = end + 1;
      int max = -1;
      if (next < format.length() && format.charAt(next) == ':' && body.contains("(")) {
        int j = next + 1;
        while (j < format.length() && Character.isDigit(format.charAt(j))) {
          j++;
        }
        if (j > next + 1) {
          max = Integer.parseInt(format.substring(next + 1, j));
          next = j;
        }
      }
      if (!lit.isEmpty()) {
        parts.add(new Literal(lit.toString()));
        lit.setLength(0);
      }
      parts.add(command(body, max));
      i = next;
    }
    if (!lit.isEmpty()) {
      parts.add(new Literal(lit.toString()));
    }
    return List.copyOf(parts);
  }

  private static Command command(String body, int max) {
    int open = body.indexOf('(');
    if (open < 0) {
      if (!NO_ARG.contains(body)) {
        throw new IllegalArgumentException("unknown command %" + body + "%");
      }
      return new Command(body, null, null, max);
    }
    String name = body.substring(0, open);
    if (!body.endsWith(")")) {
      throw new IllegalArgumentException("command %" + body + "%: missing ')'");
    }
    String arg = body.substring(open + 1, body.length() - 1);
    if (name.equals("START_TIME")) {
      return new Command(name, null, null, max); // custom time formats print the ISO default
    }
    if (name.equals("DYNAMIC_METADATA")) {
      if (arg.isEmpty() || arg.startsWith(":")) {
        throw new IllegalArgumentException("command %" + body + "%: namespace required");
      }
      return new Command(name, arg, null, max);
    }
    if (!name.equals("REQ") && !name.equals("RESP")) {
      throw new IllegalArgumentException("unknown command %" + body + "%");
    }
    String alt = null;
    int q = arg.indexOf('?');
    if (q >= 0) {
      alt = arg.substring(q + 1).toLowerCase(Locale.ROOT);
      arg = arg.substring(0, q);
    }
    if (arg.isEmpty()) {
      throw new IllegalArgumentException("command %" + body + "%: header name required");
    }
    return new Command(name, arg.toLowerCase(Locale.ROOT), alt, max);
  }
}
