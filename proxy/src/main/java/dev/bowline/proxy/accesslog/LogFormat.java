package dev.bowline.proxy.accesslog;

import dev.bowline.proxy.http.filter.ResponseFlags;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.text.Json;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
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

  private static final DateTimeFormatter SECOND_PREFIX =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.", Locale.ROOT).withZone(ZoneOffset.UTC);

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
          "HOSTNAME",
          "LOCAL_REPLY_BODY",
          "ACCESS_LOG_TYPE");

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
    return render(info, AccessLogType.NotSet);
  }

  /** One line for {@code info} written as {@code type}. */
  public String render(StreamInfo info, AccessLogType type) {
    StringBuilder sb = new StringBuilder(512);
    renderTo(sb, info, type);
    return sb.toString();
  }

  /**
   * Appends one line for {@code info} to {@code sb}: the request path's way, into a builder the
   * caller reuses, with values appended in place (no intermediate strings for numbers, times or
   * missing values).
   */
  public void renderTo(StringBuilder sb, StreamInfo info) {
    renderTo(sb, info, AccessLogType.NotSet);
  }

  /**
   * As {@link #renderTo(StringBuilder, StreamInfo)}, for a line of {@code type} ({@code
   * %ACCESS_LOG_TYPE%}; a line of a stream still going on has its current {@code %DURATION%}).
   */
  public void renderTo(StringBuilder sb, StreamInfo info, AccessLogType type) {
    if (json.isEmpty()) {
      for (Part p : text) {
        p.append(sb, info, type);
      }
      return;
    }
    StringBuilder v = SCRATCH.get();
    sb.append('{');
    boolean first = true;
    for (var e : json) {
      if (!first) {
        sb.append(',');
      }
      first = false;
      Json.quote(sb, e.getKey());
      sb.append(':');
      List<Part> parts = e.getValue();
      v.setLength(0);
      if (parts.size() == 1 && parts.getFirst() instanceof Command c && c.numeric()) {
        c.append(v, info, type);
        sb.append(isDash(v, 0) ? "null" : v);
      } else {
        boolean allMissing = true;
        for (Part p : parts) {
          int before = v.length();
          p.append(v, info, type);
          if (!(p instanceof Command && isDash(v, before))) {
            allMissing = false;
          }
        }
        if (allMissing && parts.size() == 1) {
          sb.append("null");
        } else {
          Json.quote(sb, v);
        }
      }
    }
    sb.append("}\n");
  }

  private static boolean isDash(StringBuilder sb, int from) {
    return sb.length() == from + 1 && sb.charAt(from) == '-';
  }

  /** Per-thread scratch for JSON values (event loops render one line at a time). */
  private static final FastThreadLocal<StringBuilder> SCRATCH =
      new FastThreadLocal<>() {
        @Override
        protected StringBuilder initialValue() {
          return new StringBuilder(256);
        }
      };

  /**
   * {@code %START_TIME%}'s text up to the seconds, per thread, recomputed once a second (Envoy
   * caches its formatted time the same way); the milliseconds are appended per line.
   */
  private static final class SecondCache {
    long second = Long.MIN_VALUE;
    String prefix = "";
  }

  private static final FastThreadLocal<SecondCache> SECONDS =
      new FastThreadLocal<>() {
        @Override
        protected SecondCache initialValue() {
          return new SecondCache();
        }
      };

  static void appendIsoTime(StringBuilder sb, long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000);
    SecondCache c = SECONDS.get();
    if (c.second != second) {
      c.prefix = SECOND_PREFIX.format(Instant.ofEpochSecond(second));
      c.second = second;
    }
    int ms = (int) Math.floorMod(epochMillis, 1000);
    sb.append(c.prefix);
    if (ms < 100) {
      sb.append('0');
    }
    if (ms < 10) {
      sb.append('0');
    }
    sb.append(ms).append('Z');
  }

  private sealed interface Part {
    void append(StringBuilder sb, StreamInfo info, AccessLogType type);
  }

  private record Literal(String text) implements Part {
    @Override
    public void append(StringBuilder sb, StreamInfo info, AccessLogType type) {
      sb.append(text);
    }
  }

  /**
   * The commands, resolved once when the format is parsed so rendering switches on a constant.
   * {@code numeric} ones are JSON numbers in a {@code json_format} (or null when missing), the
   * others strings.
   */
  private enum Op {
    START_TIME(false),
    RESPONSE_CODE(true),
    RESPONSE_FLAGS(false),
    BYTES_RECEIVED(true),
    BYTES_SENT(true),
    DURATION(true),
    REQUEST_DURATION(true), // not tracked yet: "-"
    RESPONSE_DURATION(true),
    UPSTREAM_HOST(false),
    UPSTREAM_CLUSTER(false),
    DOWNSTREAM_LOCAL_ADDRESS(false),
    DOWNSTREAM_REMOTE_ADDRESS(false),
    DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT(false),
    DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(false),
    ROUTE_NAME(false),
    PROTOCOL(false),
    REQ(false),
    RESP(false),
    DYNAMIC_METADATA(false),
    ROUTE_METADATA(false),
    VIRTUAL_HOST_METADATA(false),
    CLUSTER_METADATA(false),
    REQUESTED_SERVER_NAME(false),
    RESPONSE_CODE_DETAILS(false),
    UPSTREAM_LOCAL_ADDRESS(false),
    LOCAL_REPLY_BODY(false), // the local reply's text, only while local_reply_config formats it
    ACCESS_LOG_TYPE(false), // why the line is written: Envoy's AccessLogType by name
    UNTRACKED(false); // known but not tracked yet: prints "-"

    final boolean numeric;

    Op(boolean numeric) {
      this.numeric = numeric;
    }

    private static final java.util.Map<String, Op> BY_NAME =
        java.util.Arrays.stream(values())
            .filter(o -> o != UNTRACKED)
            .collect(java.util.stream.Collectors.toUnmodifiableMap(Op::name, o -> o));

    /** The command {@code name}, or {@link #UNTRACKED} for one known but not tracked yet. */
    static Op of(String name) {
      return BY_NAME.getOrDefault(name, UNTRACKED);
    }
  }

  /**
   * One {@code %COMMAND(arg)%:max} operator.
   *
   * @param name the command
   * @param op the command, resolved
   * @param header for REQ/RESP: the header (lower case), for DYNAMIC_METADATA its path, else null
   * @param altHeader REQ(X?Y): the header tried when X is absent
   * @param max truncation length, or -1
   */
  private record Command(
      String name,
      Op op,
      @org.jspecify.annotations.Nullable AsciiString header,
      @org.jspecify.annotations.Nullable AsciiString altHeader,
      int max)
      implements Part {
    boolean numeric() {
      return op.numeric;
    }

    /** Appends the value, {@code -} when it is missing or empty, cut to {@code max}. */
    @Override
    public void append(StringBuilder sb, StreamInfo info, AccessLogType type) {
      int start = sb.length();
      value(sb, info, type);
      int len = sb.length() - start;
      if (len == 0 && op == Op.LOCAL_REPLY_BODY && info.localReplyBody() != null) {
        return; // Envoy: an empty reply body is an empty value, not a missing one
      }
      if (len == 0) {
        sb.append('-');
      } else if (max >= 0 && len > max) {
        sb.setLength(start + max);
      }
    }

    private void value(StringBuilder sb, StreamInfo info, AccessLogType type) {
      switch (op) {
        case START_TIME -> appendIsoTime(sb, info.startEpochMillis());
        case RESPONSE_CODE -> sb.append(info.responseCode());
        case RESPONSE_FLAGS -> ResponseFlags.appendTo(sb, info.responseFlags());
        case BYTES_RECEIVED -> sb.append(info.bytesReceived());
        case BYTES_SENT -> sb.append(info.bytesSent());
        case DURATION -> {
          long d = info.durationNanos();
          if (d == 0 && type.inFlight) {
            d = System.nanoTime() - info.startNanos(); // Envoy's currentDuration()
          }
          sb.append(d / 1_000_000);
        }
        case ACCESS_LOG_TYPE -> sb.append(type.name());
        case RESPONSE_DURATION -> {
          if (info.responseStartNanos() != 0) {
            sb.append(info.responseStartNanos() / 1_000_000);
          }
        }
        case UPSTREAM_HOST -> appendNullable(sb, info.upstreamHost());
        case UPSTREAM_CLUSTER -> appendNullable(sb, info.upstreamCluster());
        case DOWNSTREAM_LOCAL_ADDRESS -> sb.append(info.downstreamLocalAddress());
        case DOWNSTREAM_REMOTE_ADDRESS -> sb.append(info.downstreamRemoteAddress());
        case DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT ->
            appendWithoutPort(sb, info.downstreamLocalAddress());
        case DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT ->
            appendWithoutPort(sb, info.downstreamRemoteAddress());
        case ROUTE_NAME -> appendNullable(sb, info.routeName());
        case PROTOCOL -> sb.append(info.protocol());
        case REQUESTED_SERVER_NAME -> sb.append(info.requestedServerName());
        case RESPONSE_CODE_DETAILS -> appendNullable(sb, info.responseCodeDetails());
        case UPSTREAM_LOCAL_ADDRESS -> appendNullable(sb, info.upstreamLocalAddress());
        case LOCAL_REPLY_BODY -> appendNullable(sb, info.localReplyBody());
        case REQ, RESP -> {
          boolean request = op == Op.REQ;
          String v = one(info, request, java.util.Objects.requireNonNull(header));
          if (v == null && altHeader != null) {
            v = one(info, request, altHeader);
          }
          appendNullable(sb, v);
        }
        case DYNAMIC_METADATA, ROUTE_METADATA, VIRTUAL_HOST_METADATA, CLUSTER_METADATA ->
            appendNullable(
                sb, metadata(info, op, java.util.Objects.requireNonNull(header).toString()));
        case REQUEST_DURATION, UNTRACKED -> {} // not tracked yet: "-"
      }
    }

    private static void appendNullable(
        StringBuilder sb, @org.jspecify.annotations.Nullable String v) {
      if (v != null) {
        sb.append(v);
      }
    }

    private static @org.jspecify.annotations.Nullable String one(
        StreamInfo info, boolean request, AsciiString name) {
      if (request) {
        if (name.byteAt(0) == ':') {
          if (name.contentEquals(":method")) {
            return info.method();
          } else if (name.contentEquals(":path")) {
            return info.path();
          } else if (name.contentEquals(":authority")) {
            return info.requestHeaders().get(HttpHeaderNames.HOST);
          } else if (name.contentEquals(":scheme")) {
            return info.requestHeaders().get(X_FORWARDED_PROTO);
          }
        }
        return info.requestHeaders().get(name);
      }
      if (name.contentEquals(":status")) {
        return info.responseCode() == 0 ? null : Integer.toString(info.responseCode());
      }
      var h = info.responseHeaders();
      return h == null ? null : h.get(name);
    }

    /**
     * {@code %DYNAMIC_METADATA(NAMESPACE:KEY:...)%}: the value at that path of the filter's
     * metadata, {@code %CLUSTER_METADATA(NAMESPACE:KEY:...)%} of the upstream cluster's {@code
     * metadata.filter_metadata}; strings as they are, anything else as JSON.
     */
    private static @org.jspecify.annotations.Nullable String metadata(
        StreamInfo info, Op op, String arg) {
      String[] path = arg.split(":");
      com.google.protobuf.Struct s =
          switch (op) {
            case CLUSTER_METADATA -> info.clusterMetadata(path[0]);
            case ROUTE_METADATA -> info.routeMetadata(path[0]);
            case VIRTUAL_HOST_METADATA -> info.virtualHostMetadata(path[0]);
            default -> info.dynamicMetadata(path[0]);
          };
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

    private static void appendWithoutPort(StringBuilder sb, String address) {
      int colon = address.lastIndexOf(':');
      sb.append(address, 0, colon > 0 ? colon : address.length());
    }
  }

  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");

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
      if (format.startsWith("START_TIME(", i + 1)) {
        int close = format.indexOf(")%", i + 1); // a strftime format has % signs of its own
        end = close < 0 ? -1 : close + 1;
      }
      if (end < 0) {
        throw new IllegalArgumentException(
            "unterminated command at " + i + ": '" + format.substring(i) + "'");
      }
      String body = format.substring(i + 1, end);
      int next = end + 1;
      int max = -1;
      // %COMMAND(arg):N% truncates the value to N characters
      int close = body.lastIndexOf(')');
      if (close > 0 && close + 1 < body.length() && body.charAt(close + 1) == ':') {
        String n = body.substring(close + 2);
        if (n.isEmpty() || !n.chars().allMatch(Character::isDigit)) {
          throw new IllegalArgumentException("command %" + body + "%: bad length '" + n + "'");
        }
        max = Integer.parseInt(n);
        body = body.substring(0, close + 1);
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
      return new Command(body, Op.of(body), null, null, max);
    }
    String name = body.substring(0, open);
    if (!body.endsWith(")")) {
      throw new IllegalArgumentException("command %" + body + "%: missing ')'");
    }
    String arg = body.substring(open + 1, body.length() - 1);
    if (name.equals("START_TIME")) {
      return new Command(name, Op.START_TIME, null, null, max); // custom formats print the ISO one
    }
    if (name.equals("METADATA")) {
      // Envoy's %METADATA(TYPE:NAMESPACE:KEY...)%: the route's and the stream's dynamic metadata
      int colon = arg.indexOf(':');
      String type = colon < 0 ? arg : arg.substring(0, colon);
      String rest = colon < 0 ? "" : arg.substring(colon + 1);
      Op op =
          switch (type) {
            case "ROUTE" -> Op.ROUTE_METADATA;
            case "VIRTUAL_HOST" -> Op.VIRTUAL_HOST_METADATA;
            case "DYNAMIC" -> Op.DYNAMIC_METADATA;
            case "CLUSTER" -> Op.CLUSTER_METADATA;
            default ->
                throw new IllegalArgumentException(
                    "command %"
                        + body
                        + "%: only ROUTE, VIRTUAL_HOST, CLUSTER and DYNAMIC metadata are"
                        + " supported");
          };
      if (rest.isEmpty() || rest.startsWith(":")) {
        throw new IllegalArgumentException("command %" + body + "%: namespace required");
      }
      return new Command(name, op, new AsciiString(rest), null, max);
    }
    if (name.equals("DYNAMIC_METADATA") || name.equals("CLUSTER_METADATA")) {
      if (arg.isEmpty() || arg.startsWith(":")) {
        throw new IllegalArgumentException("command %" + body + "%: namespace required");
      }
      return new Command(name, Op.valueOf(name), new AsciiString(arg), null, max);
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
    return new Command(
        name,
        Op.of(name),
        new AsciiString(arg.toLowerCase(Locale.ROOT)),
        alt == null ? null : new AsciiString(alt),
        max);
  }
}
