package dev.bowline.proxy.accesslog;

import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Optional;

/**
 * {@code envoy.access_loggers.file} on a connection manager: where lines go, how they look, and
 * which streams are logged.
 *
 * @param path the file ({@code /dev/stdout} works)
 * @param format the compiled format
 * @param writer the proxy's writer thread
 * @param filter the access log's {@code filter}; empty logs every line
 */
public record FileAccessLog(
    String path, LogFormat format, AccessLogWriter writer, Optional<LogFilter> filter) {
  /** A log of every stream. */
  public FileAccessLog(String path, LogFormat format, AccessLogWriter writer) {
    this(path, format, writer, Optional.empty());
  }

  /** The event loop's line builder, reused line after line. */
  private static final FastThreadLocal<StringBuilder> LINE =
      new FastThreadLocal<>() {
        @Override
        protected StringBuilder initialValue() {
          return new StringBuilder(512);
        }
      };

  /**
   * Formats {@code info} on the calling event loop and hands the line to the writer, unless the
   * filter says no.
   */
  public void log(StreamInfo info) {
    log(info, AccessLogType.NotSet);
  }

  /** As {@link #log(StreamInfo)}, a line of {@code type} ({@code %ACCESS_LOG_TYPE%}). */
  public void log(StreamInfo info, AccessLogType type) {
    if (filter.isPresent() && !filter.get().test(info, type)) {
      return;
    }
    StringBuilder sb = LINE.get();
    sb.setLength(0);
    format.renderTo(sb, info, type);
    writer.append(path, sb.toString()); // encoded on the writer thread
    if (sb.length() > 8192) {
      LINE.set(new StringBuilder(512)); // don't keep a huge line's buffer
    }
  }
}
