package dev.bowline.proxy.http;

import dev.bowline.proxy.accesslog.LogFormat;
import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.HeaderMutation;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's {@code local_reply_config} ({@code source/common/local_reply/local_reply.cc}): every
 * local reply of the connection manager passes through it. The first mapper whose filter matches
 * the stream (its response code already the reply's) may rewrite the status, the body and add
 * response headers, and may pick its own body format; then the body format (the mapper's, else the
 * config's {@code body_format}, else the reply's text as it is) renders the body, where {@code
 * %LOCAL_REPLY_BODY%} is the reply's text. Only built when the listener configures it: without one
 * local replies take no detour. Runs on the event loop, on local replies only.
 *
 * @param mappers tried in order until one matches
 * @param bodyFormat the config's {@code body_format}; null leaves the text as the body
 */
public record LocalReplyMapper(List<Mapper> mappers, @Nullable BodyFormat bodyFormat) {
  public LocalReplyMapper {
    mappers = List.copyOf(mappers);
  }

  /**
   * One {@code ResponseMapper}.
   *
   * @param filter when it applies
   * @param status the new status, 0 to keep it
   * @param body the new text ({@code %LOCAL_REPLY_BODY%}), null to keep it
   * @param format {@code body_format_override}, null for the config's
   * @param headers {@code headers_to_add}
   */
  public record Mapper(
      Filter filter,
      int status,
      @Nullable String body,
      @Nullable BodyFormat format,
      HeaderMutation headers) {}

  /**
   * A {@code SubstitutionFormatString}: the format and the content type it answers with ({@code
   * text/plain} for text, {@code application/json} for JSON, unless {@code content_type} says).
   */
  public record BodyFormat(LogFormat format, String contentType) {}

  /** Envoy's access-log filters a mapper may use. */
  public sealed interface Filter {
    /** Whether the stream {@code s} (its response code the reply's) matches. */
    boolean matches(StreamInfo s);
  }

  /** {@code status_code_filter}: the response code compared with {@code value}. */
  public record StatusCode(Op op, int value) implements Filter {
    /** Envoy's {@code ComparisonFilter.Op}. */
    public enum Op {
      EQ,
      GE,
      LE
    }

    @Override
    public boolean matches(StreamInfo s) {
      int code = s.responseCode();
      return switch (op) {
        case EQ -> code == value;
        case GE -> code >= value;
        case LE -> code <= value;
      };
    }
  }

  /** {@code header_filter}: a request header matcher (values of a repeated header joined). */
  public record Header(HeaderMatch match) implements Filter {
    @Override
    public boolean matches(StreamInfo s) {
      HttpHeaders h = s.requestHeaders();
      String name = match.name();
      String actual;
      if (h == null) {
        actual = null;
      } else if (name.equals(":authority")) {
        actual = h.get("host");
      } else {
        List<String> all = h.getAll(name);
        actual = all.isEmpty() ? null : all.size() == 1 ? all.getFirst() : String.join(",", all);
      }
      return match.matches(actual);
    }
  }

  /**
   * {@code response_flag_filter}: any of the flags in {@code mask} set, or any flag at all when
   * {@code mask} is 0.
   */
  public record ResponseFlags(int mask) implements Filter {
    @Override
    public boolean matches(StreamInfo s) {
      int f = s.responseFlags();
      return mask == 0 ? f != 0 : (f & mask) != 0;
    }
  }

  /** {@code and_filter}. */
  public record And(List<Filter> filters) implements Filter {
    public And {
      filters = List.copyOf(filters);
    }

    @Override
    public boolean matches(StreamInfo s) {
      for (Filter f : filters) {
        if (!f.matches(s)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code or_filter}. */
  public record Or(List<Filter> filters) implements Filter {
    public Or {
      filters = List.copyOf(filters);
    }

    @Override
    public boolean matches(StreamInfo s) {
      for (Filter f : filters) {
        if (f.matches(s)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * {@code not_health_check_filter}: the proxy has no {@code health_check} HTTP filter, so no
   * stream is a health check and this always matches.
   */
  public record NotHealthCheck() implements Filter {
    @Override
    public boolean matches(StreamInfo s) {
      return true;
    }
  }

  /**
   * What a stream shows the mapper while it rewrites: its response code and head (Envoy sets both
   * before the filters run, so {@code status_code_filter} and {@code %RESP(...)%} see the reply)
   * and the reply's text for {@code %LOCAL_REPLY_BODY%}.
   */
  interface View extends StreamInfo {
    void showLocalReply(int code, @Nullable HttpHeaders headers, @Nullable String body);
  }

  /**
   * The rewritten reply.
   *
   * @param status the status to answer
   * @param body the body (or, for gRPC, the {@code grpc-message})
   * @param contentType the body's content type
   * @param headers the mapper's {@code headers_to_add}, applied
   */
  record Reply(int status, String body, String contentType, HttpHeaders headers) {}

  private static final String TEXT_PLAIN = "text/plain";

  /** Envoy's {@code LocalReply::rewrite} of a reply {@code status} with text {@code body}. */
  Reply rewrite(View s, int status, String body) {
    HttpHeaders headers = new DefaultHttpHeaders();
    s.showLocalReply(status, headers, null);
    BodyFormat format = null;
    for (Mapper m : mappers) {
      if (!m.filter().matches(s)) {
        continue;
      }
      if (m.body() != null) {
        body = m.body();
      }
      m.headers().applyTo(new dev.bowline.proxy.config.HeaderMutation.Http1Headers(headers));
      if (m.status() != 0 && m.status() != status) {
        status = m.status();
        s.showLocalReply(status, headers, null);
      }
      format = m.format();
      break;
    }
    if (format == null) {
      format = bodyFormat;
    }
    if (format == null) {
      return new Reply(status, body, TEXT_PLAIN, headers);
    }
    s.showLocalReply(status, headers, body);
    try {
      StringBuilder sb = new StringBuilder(body.length() + 64);
      format.format().renderTo(sb, s);
      return new Reply(status, sb.toString(), format.contentType(), headers);
    } finally {
      s.showLocalReply(status, headers, null);
    }
  }
}
