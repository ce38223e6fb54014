package dev.bowline.proxy.accesslog;

import dev.bowline.proxy.http.filter.StreamInfo;

/**
 * {@code envoy.access_loggers.file} on a connection manager: where lines go and how they look.
 *
 * @param path the file ({@code /dev/stdout} works)
 * @param format the compiled format
 * @param writer the proxy's writer thread
 */
public record FileAccessLog(String path, LogFormat format, AccessLogWriter writer) {
  /** Formats {@code info} on the calling event loop and hands the line to the writer. */
  public void log(StreamInfo info) {
    writer.append(path, format.render(info));
  }
}
