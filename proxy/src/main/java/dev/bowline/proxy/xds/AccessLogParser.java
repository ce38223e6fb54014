package dev.bowline.proxy.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Value;
import dev.bowline.proxy.accesslog.AccessLogType;
import dev.bowline.proxy.accesslog.AccessLogWriter;
import dev.bowline.proxy.accesslog.FileAccessLog;
import dev.bowline.proxy.accesslog.LogFilter;
import dev.bowline.proxy.accesslog.LogFormat;
import dev.bowline.proxy.config.Anys;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.AccessLogFormatCase;
import io.envoyproxy.envoy.extensions.access_loggers.stream.v3.StdoutAccessLog;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code access_log} of a connection manager: {@code envoy.access_loggers.file} (and {@code
 * stdout}, a file logger to {@code /dev/stdout}) with text or JSON formats, and Envoy's access-log
 * filters ({@link #filter}). Other loggers are refused naming the field.
 */
final class AccessLogParser {
  static final String FILE_TYPE =
      "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";
  static final String STDOUT_TYPE =
      "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";

  private AccessLogParser() {}

  static List<FileAccessLog> parse(List<AccessLog> logs, String field, AccessLogWriter writer)
      throws InvalidResourceException {
    List<FileAccessLog> out = new ArrayList<>();
    for (int i = 0; i < logs.size(); i++) {
      AccessLog a = logs.get(i);
      String f = field + "[" + i + "]";
      java.util.Optional<LogFilter> filter =
          a.hasFilter()
              ? java.util.Optional.of(filter(a.getFilter(), f + ".filter"))
              : java.util.Optional.empty();
      if (!a.hasTypedConfig()) {
        throw new InvalidResourceException(f + ".typed_config", "is required");
      }
      String type = a.getTypedConfig().getTypeUrl();
      try {
        switch (type) {
          case FILE_TYPE -> {
            var fl =
                Anys.unpack(
                    a.getTypedConfig(),
                    io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog
                        .getDescriptor(),
                    io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog.parser());
            if (fl.getPath().isEmpty()) {
              throw new InvalidResourceException(f + ".typed_config.path", "must not be empty");
            }
            out.add(
                new FileAccessLog(fl.getPath(), format(fl, f + ".typed_config"), writer, filter));
          }
          case STDOUT_TYPE -> {
            var so =
                Anys.unpack(
                    a.getTypedConfig(), StdoutAccessLog.getDescriptor(), StdoutAccessLog.parser());
            LogFormat format =
                so.hasLogFormat()
                    ? logFormat(so.getLogFormat(), f + ".typed_config.log_format")
                    : LogFormat.text(LogFormat.ENVOY_DEFAULT);
            out.add(new FileAccessLog("/dev/stdout", format, writer, filter));
          }
          default ->
              throw new InvalidResourceException(
                  f + ".typed_config", "unsupported access logger type " + type);
        }
      } catch (InvalidProtocolBufferException e) {
        throw new InvalidResourceException(f + ".typed_config", "cannot unpack: " + e.getMessage());
      }
    }
    return out;
  }

  static final String CEL_TYPE =
      "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter";

  /** The response flags {@code response_flag_filter} may name (Envoy's validation list). */
  private static final java.util.Set<String> ENVOY_FLAGS =
      java.util.Set.of(
          "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE",
          "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF",
          "DO", "DR", "UDO");

  /**
   * An access log's {@code filter}: every kind Envoy has. {@code runtime_filter} and the
   * comparisons' {@code RuntimeUInt32} use their defaults (the runtime key is not read: Bowline's
   * runtime keeps only the keys the proxy reads); {@code extension_filter} only Envoy's CEL filter.
   */
  static LogFilter filter(
      io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter filter, String field)
      throws InvalidResourceException {
    return switch (filter.getFilterSpecifierCase()) {
      case STATUS_CODE_FILTER ->
          new LogFilter.StatusCode(
              op(filter.getStatusCodeFilter().getComparison(), field + ".status_code_filter"),
              comparisonValue(
                  filter.getStatusCodeFilter().getComparison(), field + ".status_code_filter"));
      case DURATION_FILTER ->
          new LogFilter.Duration(
              op(filter.getDurationFilter().getComparison(), field + ".duration_filter"),
              comparisonValue(
                  filter.getDurationFilter().getComparison(), field + ".duration_filter"));
      case NOT_HEALTH_CHECK_FILTER -> new LogFilter.NotHealthCheck();
      case TRACEABLE_FILTER -> new LogFilter.Traceable();
      case RUNTIME_FILTER -> {
        var r = filter.getRuntimeFilter();
        String f = field + ".runtime_filter";
        if (r.getRuntimeKey().isEmpty()) {
          throw new InvalidResourceException(f + ".runtime_key", "must not be empty");
        }
        var p = r.getPercentSampled();
        long denominator =
            switch (p.getDenominator()) {
              case HUNDRED -> 100;
              case TEN_THOUSAND -> 10_000;
              case MILLION -> 1_000_000;
              case UNRECOGNIZED ->
                  throw new InvalidResourceException(
                      f + ".percent_sampled.denominator", "unknown value");
            };
        yield new LogFilter.Runtime(
            Math.min(p.getNumerator(), denominator), denominator, r.getUseIndependentRandomness());
      }
      case AND_FILTER -> {
        var list = filter.getAndFilter().getFiltersList();
        if (list.size() < 2) {
          throw new InvalidResourceException(
              field + ".and_filter.filters", "at least 2 filters are required");
        }
        List<LogFilter> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          out.add(filter(list.get(i), field + ".and_filter.filters[" + i + "]"));
        }
        yield new LogFilter.And(out);
      }
      case OR_FILTER -> {
        var list = filter.getOrFilter().getFiltersList();
        if (list.size() < 2) {
          throw new InvalidResourceException(
              field + ".or_filter.filters", "at least 2 filters are required");
        }
        List<LogFilter> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
          out.add(filter(list.get(i), field + ".or_filter.filters[" + i + "]"));
        }
        yield new LogFilter.Or(out);
      }
      case HEADER_FILTER -> {
        if (!filter.getHeaderFilter().hasHeader()) {
          throw new InvalidResourceException(field + ".header_filter.header", "is required");
        }
        yield new LogFilter.Header(
            RouteConfigParser.header(
                filter.getHeaderFilter().getHeader(), field + ".header_filter.header"));
      }
      case RESPONSE_FLAG_FILTER -> {
        int bits = 0;
        var flags = filter.getResponseFlagFilter().getFlagsList();
        boolean any = flags.isEmpty();
        for (int i = 0; i < flags.size(); i++) {
          String name = flags.get(i);
          if (!ENVOY_FLAGS.contains(name)) {
            throw new InvalidResourceException(
                field + ".response_flag_filter.flags[" + i + "]",
                "unknown response flag '" + name + "'");
          }
          try {
            bits |= dev.bowline.proxy.http.filter.ResponseFlag.valueOf(name).bit();
          } catch (IllegalArgumentException e) {
            // an Envoy flag Bowline never sets: it matches nothing
          }
        }
        // no flags listed: any flag; only flags Bowline never sets: nothing
        yield any
            ? new LogFilter.ResponseFlags(0)
            : bits == 0 ? NEVER : new LogFilter.ResponseFlags(bits);
      }
      case GRPC_STATUS_FILTER -> {
        var g = filter.getGrpcStatusFilter();
        long statuses = 0;
        for (int i = 0; i < g.getStatusesCount(); i++) {
          int v = g.getStatusesValue(i);
          if (v < 0 || v > 16) {
            throw new InvalidResourceException(
                field + ".grpc_status_filter.statuses[" + i + "]", "unknown status " + v);
          }
          statuses |= 1L << v;
        }
        yield new LogFilter.GrpcStatus(statuses, g.getExclude());
      }
      case METADATA_FILTER -> {
        var m = filter.getMetadataFilter();
        String f = field + ".metadata_filter";
        boolean ifNotFound = !m.hasMatchIfKeyNotFound() || m.getMatchIfKeyNotFound().getValue();
        if (!m.hasMatcher()) {
          yield new LogFilter.Metadata("", List.of(), null, false, ifNotFound);
        }
        var mm = m.getMatcher();
        List<String> path = new ArrayList<>();
        for (int i = 0; i < mm.getPathCount(); i++) {
          if (!mm.getPath(i).hasKey() || mm.getPath(i).getKey().isEmpty()) {
            throw new InvalidResourceException(
                f + ".matcher.path[" + i + "].key", "must not be empty");
          }
          path.add(mm.getPath(i).getKey());
        }
        if (mm.getFilter().isEmpty()) {
          throw new InvalidResourceException(f + ".matcher.filter", "must not be empty");
        }
        if (path.isEmpty()) {
          throw new InvalidResourceException(f + ".matcher.path", "at least one key is required");
        }
        try {
          yield new LogFilter.Metadata(
              mm.getFilter(),
              path,
              mm.hasValue()
                  ? dev.bowline.proxy.rbac.RbacProtos.value(mm.getValue(), f + ".matcher.value")
                  : null,
              mm.getInvert(),
              ifNotFound);
        } catch (IllegalArgumentException e) {
          throw new InvalidResourceException(f + ".matcher.value", e.getMessage());
        }
      }
      case LOG_TYPE_FILTER -> {
        var t = filter.getLogTypeFilter();
        java.util.Set<AccessLogType> types = java.util.EnumSet.noneOf(AccessLogType.class);
        for (int i = 0; i < t.getTypesCount(); i++) {
          AccessLogType type = AccessLogType.of(t.getTypesValue(i));
          if (type == null) {
            throw new InvalidResourceException(
                field + ".log_type_filter.types[" + i + "]",
                "unknown access log type " + t.getTypesValue(i));
          }
          types.add(type);
        }
        yield new LogFilter.LogType(types, t.getExclude());
      }
      case EXTENSION_FILTER -> new LogFilter.Cel(cel(filter.getExtensionFilter(), field));
      case FILTERSPECIFIER_NOT_SET ->
          throw new InvalidResourceException(field, "one filter kind is required");
    };
  }

  /** A response flag filter that names only flags Bowline never sets. */
  private static final LogFilter NEVER = new LogFilter.LogType(java.util.Set.of(), false);

  private static LogFilter.Op op(
      io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter c, String field)
      throws InvalidResourceException {
    return switch (c.getOp()) {
      case EQ -> LogFilter.Op.EQ;
      case GE -> LogFilter.Op.GE;
      case LE -> LogFilter.Op.LE;
      case UNRECOGNIZED ->
          throw new InvalidResourceException(field + ".comparison.op", "unknown value");
    };
  }

  private static long comparisonValue(
      io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter c, String field)
      throws InvalidResourceException {
    if (!c.hasValue()) {
      throw new InvalidResourceException(field + ".comparison.value", "is required");
    }
    return Integer.toUnsignedLong(c.getValue().getDefaultValue());
  }

  /** {@code extension_filter}: only Envoy's CEL filter. */
  private static dev.bowline.proxy.accesslog.CelFilter cel(
      io.envoyproxy.envoy.config.accesslog.v3.ExtensionFilter ext, String field)
      throws InvalidResourceException {
    String f = field + ".extension_filter.typed_config";
    if (!ext.getTypedConfig().getTypeUrl().equals(CEL_TYPE)) {
      throw new InvalidResourceException(
          f, "unsupported access log filter type " + ext.getTypedConfig().getTypeUrl());
    }
    try {
      var cel =
          Anys.unpack(
              ext.getTypedConfig(),
              io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
                  .getDescriptor(),
              io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
                  .parser());
      return dev.bowline.proxy.accesslog.CelFilter.compile(cel.getExpression());
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(f, "cannot unpack: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new InvalidResourceException(f, e.getMessage());
    }
  }

  private static LogFormat format(
      io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog fl, String field)
      throws InvalidResourceException {
    try {
      return switch (fl.getAccessLogFormatCase()) {
        case ACCESSLOGFORMAT_NOT_SET -> LogFormat.text(LogFormat.ENVOY_DEFAULT);
        case FORMAT -> LogFormat.text(fl.getFormat());
        case JSON_FORMAT -> LogFormat.json(jsonKeys(fl.getJsonFormat(), field + ".json_format"));
        case TYPED_JSON_FORMAT ->
            LogFormat.json(jsonKeys(fl.getTypedJsonFormat(), field + ".typed_json_format"));
        case LOG_FORMAT -> logFormat(fl.getLogFormat(), field + ".log_format");
      };
    } catch (IllegalArgumentException e) {
      throw new InvalidResourceException(
          field + "." + formatField(fl.getAccessLogFormatCase()), e.getMessage());
    }
  }

  private static String formatField(AccessLogFormatCase c) {
    return switch (c) {
      case FORMAT -> "format";
      case JSON_FORMAT -> "json_format";
      case TYPED_JSON_FORMAT -> "typed_json_format";
      default -> "log_format";
    };
  }

  static LogFormat logFormat(
      io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString s, String field)
      throws InvalidResourceException {
    try {
      return switch (s.getFormatCase()) {
        case TEXT_FORMAT -> LogFormat.text(s.getTextFormat());
        case TEXT_FORMAT_SOURCE -> {
          if (!s.getTextFormatSource().hasInlineString()) {
            throw new InvalidResourceException(
                field + ".text_format_source", "only inline_string is supported");
          }
          yield LogFormat.text(s.getTextFormatSource().getInlineString());
        }
        case JSON_FORMAT -> LogFormat.json(jsonKeys(s.getJsonFormat(), field + ".json_format"));
        case FORMAT_NOT_SET -> LogFormat.text(LogFormat.ENVOY_DEFAULT);
      };
    } catch (IllegalArgumentException e) {
      throw new InvalidResourceException(field, e.getMessage());
    }
  }

  private static Map<String, String> jsonKeys(com.google.protobuf.Struct s, String field)
      throws InvalidResourceException {
    Map<String, String> keys = new LinkedHashMap<>();
    for (var e : s.getFieldsMap().entrySet()) {
      Value v = e.getValue();
      if (!v.hasStringValue()) {
        throw new InvalidResourceException(
            field + "." + e.getKey(), "only format strings are supported as values");
      }
      keys.put(e.getKey(), v.getStringValue());
    }
    return keys;
  }
}
