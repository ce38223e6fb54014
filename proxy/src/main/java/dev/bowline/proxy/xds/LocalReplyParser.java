package dev.bowline.proxy.xds;

import dev.bowline.proxy.http.LocalReplyMapper;
import dev.bowline.proxy.http.filter.ResponseFlag;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.LocalReplyConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ResponseMapper;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A connection manager's {@code local_reply_config}: mappers with the access-log filters Envoy's
 * local replies are commonly matched by ({@code status_code_filter}, {@code header_filter}, {@code
 * response_flag_filter}, {@code and_filter}, {@code or_filter}, {@code not_health_check_filter});
 * the other filters are refused naming the field. Body formats use the access-log formatter.
 */
final class LocalReplyParser {
  private LocalReplyParser() {}

  static @Nullable LocalReplyMapper parse(LocalReplyConfig c, String field)
      throws InvalidResourceException {
    List<LocalReplyMapper.Mapper> mappers = new ArrayList<>();
    for (int i = 0; i < c.getMappersCount(); i++) {
      mappers.add(mapper(c.getMappers(i), field + ".mappers[" + i + "]"));
    }
    LocalReplyMapper.BodyFormat body =
        c.hasBodyFormat() ? format(c.getBodyFormat(), field + ".body_format") : null;
    return mappers.isEmpty() && body == null ? null : new LocalReplyMapper(mappers, body);
  }

  private static LocalReplyMapper.Mapper mapper(ResponseMapper m, String field)
      throws InvalidResourceException {
    if (!m.hasFilter()) {
      throw new InvalidResourceException(field + ".filter", "is required");
    }
    int status = 0;
    if (m.hasStatusCode()) {
      status = m.getStatusCode().getValue();
      if (status < 200 || status >= 600) {
        throw new InvalidResourceException(
            field + ".status_code", "must be in [200, 600), got " + status);
      }
    }
    String body = null;
    if (m.hasBody()) {
      var b = m.getBody();
      body =
          switch (b.getSpecifierCase()) {
            case INLINE_STRING -> b.getInlineString();
            case INLINE_BYTES -> b.getInlineBytes().toStringUtf8();
            default ->
                throw new InvalidResourceException(
                    field + ".body", "only inline_string and inline_bytes are supported");
          };
    }
    return new LocalReplyMapper.Mapper(
        filter(m.getFilter(), field + ".filter"),
        status,
        body,
        m.hasBodyFormatOverride()
            ? format(m.getBodyFormatOverride(), field + ".body_format_override")
            : null,
        RouteConfigParser.mutation(m.getHeadersToAddList(), List.of(), field + ".headers_to_add"));
  }

  static LocalReplyMapper.Filter filter(AccessLogFilter f, String field)
      throws InvalidResourceException {
    return switch (f.getFilterSpecifierCase()) {
      case STATUS_CODE_FILTER -> {
        var c = f.getStatusCodeFilter().getComparison();
        String cf = field + ".status_code_filter.comparison";
        var op =
            switch (c.getOp()) {
              case EQ -> LocalReplyMapper.StatusCode.Op.EQ;
              case GE -> LocalReplyMapper.StatusCode.Op.GE;
              case LE -> LocalReplyMapper.StatusCode.Op.LE;
              case UNRECOGNIZED -> throw new InvalidResourceException(cf + ".op", "unknown op");
            };
        yield new LocalReplyMapper.StatusCode(op, c.getValue().getDefaultValue());
      }
      case HEADER_FILTER -> {
        if (!f.getHeaderFilter().hasHeader()) {
          throw new InvalidResourceException(field + ".header_filter.header", "is required");
        }
        yield new LocalReplyMapper.Header(
            RouteConfigParser.header(
                f.getHeaderFilter().getHeader(), field + ".header_filter.header"));
      }
      case RESPONSE_FLAG_FILTER -> {
        int mask = 0;
        var flags = f.getResponseFlagFilter().getFlagsList();
        for (int i = 0; i < flags.size(); i++) {
          try {
            mask |= ResponseFlag.valueOf(flags.get(i)).bit();
          } catch (IllegalArgumentException e) {
            throw new InvalidResourceException(
                field + ".response_flag_filter.flags[" + i + "]",
                "unknown response flag '" + flags.get(i) + "'");
          }
        }
        yield new LocalReplyMapper.ResponseFlags(mask);
      }
      case AND_FILTER -> {
        var list = f.getAndFilter().getFiltersList();
        if (list.size() < 2) {
          throw new InvalidResourceException(
              field + ".and_filter.filters", "needs at least 2 filters, got " + list.size());
        }
        List<LocalReplyMapper.Filter> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          out.add(filter(list.get(i), field + ".and_filter.filters[" + i + "]"));
        }
        yield new LocalReplyMapper.And(out);
      }
      case OR_FILTER -> {
        var list = f.getOrFilter().getFiltersList();
        if (list.size() < 2) {
          throw new InvalidResourceException(
              field + ".or_filter.filters", "needs at least 2 filters, got " + list.size());
        }
        List<LocalReplyMapper.Filter> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          out.add(filter(list.get(i), field + ".or_filter.filters[" + i + "]"));
        }
        yield new LocalReplyMapper.Or(out);
      }
      case NOT_HEALTH_CHECK_FILTER -> new LocalReplyMapper.NotHealthCheck();
      case FILTERSPECIFIER_NOT_SET -> throw new InvalidResourceException(field, "is required");
      default ->
          throw new InvalidResourceException(
              field + "." + filterName(f.getFilterSpecifierCase()),
              "not supported in local_reply_config (status_code_filter, header_filter,"
                  + " response_flag_filter, and_filter, or_filter and not_health_check_filter are)");
    };
  }

  private static String filterName(AccessLogFilter.FilterSpecifierCase c) {
    return c.name().toLowerCase(java.util.Locale.ROOT);
  }

  private static LocalReplyMapper.BodyFormat format(SubstitutionFormatString s, String field)
      throws InvalidResourceException {
    if (s.getFormattersCount() > 0) {
      throw new InvalidResourceException(field + ".formatters", "not supported");
    }
    if (s.getOmitEmptyValues()) {
      throw new InvalidResourceException(field + ".omit_empty_values", "not supported");
    }
    if (s.getFormatCase() == SubstitutionFormatString.FormatCase.FORMAT_NOT_SET) {
      throw new InvalidResourceException(
          field, "one of text_format, text_format_source or" + " json_format is required");
    }
    var format = AccessLogParser.logFormat(s, field);
    String type =
        !s.getContentType().isEmpty()
            ? s.getContentType()
            : format.isJson() ? "application/json" : "text/plain";
    return new LocalReplyMapper.BodyFormat(format, type);
  }
}
