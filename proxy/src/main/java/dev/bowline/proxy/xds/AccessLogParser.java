package dev.bowline.proxy.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Value;
import dev.bowline.proxy.accesslog.AccessLogWriter;
import dev.bowline.proxy.accesslog.FileAccessLog;
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
 * stdout}, a file logger to {@code /dev/stdout}) with text or JSON formats. Access-log filters and
 * other loggers are refused naming the field.
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
      java.util.Optional<dev.bowline.proxy.accesslog.CelFilter> filter =
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

  /** An access log's {@code filter}: only Envoy's CEL extension filter is supported. */
  private static dev.bowline.proxy.accesslog.CelFilter filter(
      io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter filter, String field)
      throws InvalidResourceException {
    if (!filter.hasExtensionFilter()) {
      throw new InvalidResourceException(
          field,
          "only extension_filter with "
              + CEL_TYPE
              + " is supported, got "
              + filter.getFilterSpecifierCase());
    }
    var ext = filter.getExtensionFilter();
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
