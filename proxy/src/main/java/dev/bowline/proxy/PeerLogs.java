package dev.bowline.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * Netty's log lines that a remote peer causes at will, once per frame or per connection, made debug
 * lines: above debug, a client (or an upstream) could fill the proxy's log, and spend its CPU on
 * formatting, just by sending frames the codec ignores. Envoy logs the same events at debug or
 * trace, and counts what matters in stats. Each logger named here is set to {@code WARNING}, so its
 * INFO lines are not even formatted, unless the JUL configuration names a level for it (then that
 * level holds: an operator who wants them gets them). The loggers are returned so the caller can
 * keep them: java.util.logging holds its loggers weakly, and a collected one forgets its level.
 */
final class PeerLogs {
  private PeerLogs() {}

  /**
   * The Netty loggers concerned and what a peer does to trigger their lines above debug.
   *
   * <ul>
   *   <li>{@code DefaultHttp2ConnectionDecoder}: INFO "ignoring DATA frame for stream 5. Stream
   *       sent after GOAWAY sent" and "ignoring ... frame for stream N RST_STREAM sent": every
   *       HEADERS or DATA frame on a stream after the GOAWAY's last one, or on a stream the codec
   *       reset (a refused one), one line each;
   *   <li>{@code Http2ControlFrameLimitEncoder}: INFO "Maximum number 10000 of outstanding control
   *       frames reached, closing channel": a client that sends PINGs or SETTINGS and never reads
   *       the answers, one line per connection.
   * </ul>
   */
  static final List<String> NETTY =
      List.of(
          "io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder",
          "io.netty.handler.codec.http2.Http2ControlFrameLimitEncoder");

  /**
   * Sets each logger of {@link #NETTY} to WARNING unless a level was configured or set for it;
   * returns them, to be kept.
   */
  static List<Logger> quiet() {
    LogManager manager = LogManager.getLogManager();
    List<Logger> kept = new ArrayList<>(NETTY.size());
    for (String name : NETTY) {
      Logger logger = Logger.getLogger(name);
      if (manager.getProperty(name + ".level") == null && logger.getLevel() == null) {
        logger.setLevel(Level.WARNING);
      }
      kept.add(logger);
    }
    return List.copyOf(kept);
  }
}
