package dev.bowline.proxy.accesslog;

import com.google.protobuf.Value;
import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.rbac.Matcher;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * An access log's {@code filter} (Envoy's {@code envoy.config.accesslog.v3.AccessLogFilter}):
 * whether a line of {@code type} is written for {@code info}. Built once when the listener is
 * parsed; evaluated on the event loop that writes the line, without allocating for the common
 * filters (status code, duration, response flags, log type).
 */
public sealed interface LogFilter {
  /** Whether the line is written. */
  boolean test(StreamInfo info, AccessLogType type);

  /** {@code ComparisonFilter}: {@code EQ}, {@code GE} or {@code LE} against {@code value}. */
  enum Op {
    EQ,
    GE,
    LE;

    boolean compare(long lhs, long value) {
      return switch (this) {
        case EQ -> lhs == value;
        case GE -> lhs >= value;
        case LE -> lhs <= value;
      };
    }
  }

  /**
   * {@code status_code_filter}: the response code (0 when none was sent) compared with {@code
   * value} (the {@code RuntimeUInt32}'s {@code default_value}).
   */
  record StatusCode(Op op, long value) implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      return op.compare(info.responseCode(), value);
    }
  }

  /**
   * {@code duration_filter}: the stream's duration in ms so far (Envoy's {@code currentDuration}:
   * the final one once it ended) compared with {@code value}.
   */
  record Duration(Op op, long value) implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      long d = info.durationNanos();
      if (d == 0) {
        d = System.nanoTime() - info.startNanos();
      }
      return op.compare(d / 1_000_000, value);
    }
  }

  /**
   * {@code not_health_check_filter}: Envoy skips requests its health-check filter answered; Bowline
   * has no such filter, so every stream passes.
   */
  record NotHealthCheck() implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      return true;
    }
  }

  /**
   * {@code traceable_filter}: Envoy logs only requests its connection manager traces because the
   * service forced it ({@code x-envoy-force-trace}, or that reason packed in the {@code
   * x-request-id} it got): the stream's trace reason, so never without {@code tracing}, and with
   * {@code pack_trace_reason: false} too.
   */
  record Traceable() implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      return info.traceReason() == dev.bowline.proxy.tracing.Sampling.FORCED;
    }
  }

  /**
   * {@code runtime_filter}: {@code numerator} out of {@code denominator} streams; without {@code
   * use_independent_randomness} the same ones on every proxy, keyed by the request id's first eight
   * hex digits (Envoy's UUID extension), else (or without a request id) at random. The runtime key
   * is not read: Bowline's runtime keeps only the keys the proxy reads (0004, logtype addendum).
   */
  record Runtime(long numerator, long denominator, boolean independent) implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      long r = -1;
      if (!independent) {
        String rid = info.requestHeaders().get(X_REQUEST_ID);
        if (rid != null && rid.length() >= 8) {
          r = hex8(rid);
        }
      }
      if (r < 0) {
        r = ThreadLocalRandom.current().nextLong(Long.MAX_VALUE);
      }
      return r % denominator < numerator;
    }

    private static long hex8(String s) {
      long v = 0;
      for (int i = 0; i < 8; i++) {
        int d = Character.digit(s.charAt(i), 16);
        if (d < 0) {
          return -1;
        }
        v = v << 4 | d;
      }
      return v;
    }
  }

  /** {@code and_filter}: every one of {@code filters}. */
  record And(List<LogFilter> filters) implements LogFilter {
    public And {
      filters = List.copyOf(filters);
    }

    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      for (int i = 0, n = filters.size(); i < n; i++) {
        if (!filters.get(i).test(info, type)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code or_filter}: any one of {@code filters}. */
  record Or(List<LogFilter> filters) implements LogFilter {
    public Or {
      filters = List.copyOf(filters);
    }

    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      for (int i = 0, n = filters.size(); i < n; i++) {
        if (filters.get(i).test(info, type)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * {@code header_filter}: the request header {@code match}es (Envoy's header matcher: several
   * values joined with commas; {@code :method}, {@code :path}, {@code :authority}, {@code :scheme}
   * as the request has them).
   */
  record Header(HeaderMatch match) implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      return match.matches(value(info, match.name()));
    }

    private static @Nullable String value(StreamInfo info, String name) {
      HttpHeaders h = info.requestHeaders();
      switch (name) {
        case ":method" -> {
          return info.method().isEmpty() ? null : info.method();
        }
        case ":path" -> {
          return info.path().isEmpty() ? null : info.path();
        }
        case ":authority" -> {
          return h.get(HttpHeaderNames.HOST);
        }
        case ":scheme" -> {
          return h.get(X_FORWARDED_PROTO);
        }
        default -> {
          List<String> all = h.getAll(name);
          return all.isEmpty() ? null : all.size() == 1 ? all.getFirst() : String.join(",", all);
        }
      }
    }
  }

  /**
   * {@code response_flag_filter}: any of the flags in {@code bits} is set; with no flags listed
   * ({@code bits} 0), any flag at all.
   */
  record ResponseFlags(int bits) implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      int flags = info.responseFlags();
      return bits == 0 ? flags != 0 : (flags & bits) != 0;
    }
  }

  /**
   * {@code grpc_status_filter}: the gRPC status (the response trailers' {@code grpc-status}, else
   * the response head's, else the one Envoy maps the HTTP status to, else {@code UNKNOWN}) is one
   * of {@code statuses} (a bit per status), or, with {@code exclude}, none of them.
   */
  record GrpcStatus(long statuses, boolean exclude) implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      int status = status(info);
      boolean found = status >= 0 && status < 64 && (statuses & (1L << status)) != 0;
      return found != exclude;
    }

    private static int status(StreamInfo info) {
      HttpHeaders t = info.responseTrailers();
      String v = t == null ? null : t.get(GRPC_STATUS);
      if (v == null) {
        HttpHeaders h = info.responseHeaders();
        v = h == null ? null : h.get(GRPC_STATUS);
      }
      if (v != null) {
        try {
          return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
          return 2; // UNKNOWN
        }
      }
      int code = info.responseCode();
      return code == 0 ? 2 : httpToGrpc(code);
    }

    /** Envoy's {@code Grpc::Utility::httpToGrpcStatus}. */
    static int httpToGrpc(int http) {
      return switch (http) {
        case 400 -> 13; // INTERNAL
        case 401 -> 16; // UNAUTHENTICATED
        case 403 -> 7; // PERMISSION_DENIED
        case 404 -> 12; // UNIMPLEMENTED
        case 429, 502, 503, 504 -> 14; // UNAVAILABLE
        default -> 2; // UNKNOWN
      };
    }
  }

  /**
   * {@code metadata_filter}: the stream's dynamic metadata at {@code filter}/{@code path}; when a
   * value is there, whether {@code value} matches it ({@code invert} flips; no {@code matcher}
   * value: false); when none is, {@code matchIfKeyNotFound} (Envoy's default true).
   */
  record Metadata(
      String filter,
      List<String> path,
      Matcher.@Nullable ValueMatch value,
      boolean invert,
      boolean matchIfKeyNotFound)
      implements LogFilter {
    public Metadata {
      path = List.copyOf(path);
    }

    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      Value v = lookup(info);
      if (v == null) {
        return matchIfKeyNotFound;
      }
      return value != null && value.matches(v) != invert;
    }

    private @Nullable Value lookup(StreamInfo info) {
      var struct = filter.isEmpty() ? null : info.dynamicMetadata(filter);
      if (struct == null) {
        return null;
      }
      Value v = null;
      for (String key : path) {
        if (struct == null) {
          return null;
        }
        v = struct.getFieldsMap().get(key);
        if (v == null) {
          return null;
        }
        struct = v.hasStructValue() ? v.getStructValue() : null;
      }
      return v;
    }
  }

  /** {@code log_type_filter}: the line's type is one of {@code types} (or none, with exclude). */
  record LogType(java.util.Set<AccessLogType> types, boolean exclude) implements LogFilter {
    public LogType {
      types =
          types.isEmpty()
              ? java.util.EnumSet.noneOf(AccessLogType.class)
              : java.util.EnumSet.copyOf(types);
    }

    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      return types.contains(type) != exclude;
    }
  }

  /** {@code extension_filter} with Envoy's CEL filter. */
  record Cel(CelFilter cel) implements LogFilter {
    @Override
    public boolean test(StreamInfo info, AccessLogType type) {
      return cel.test(info);
    }
  }

  io.netty.util.AsciiString X_REQUEST_ID = io.netty.util.AsciiString.cached("x-request-id");
  io.netty.util.AsciiString X_FORWARDED_PROTO =
      io.netty.util.AsciiString.cached("x-forwarded-proto");
  io.netty.util.AsciiString GRPC_STATUS = io.netty.util.AsciiString.cached("grpc-status");
}
