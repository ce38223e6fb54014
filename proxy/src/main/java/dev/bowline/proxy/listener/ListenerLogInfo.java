package dev.bowline.proxy.listener;

import dev.bowline.proxy.accesslog.FileAccessLog;
import dev.bowline.proxy.config.ConnectionInfo;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a listener's {@code access_log} sees of a connection it closes before any filter chain took
 * it (or of a connection manager's connection as it ends), as Envoy's {@code
 * ActiveStreamListenerBase::emitLogs} logs the socket's stream info: the downstream addresses (the
 * restored original destination as the local one), the server name the TLS inspector read, the time
 * since the accept, no bytes, no upstream, and the flags and details the listener set ({@code NR}
 * and {@code filter_chain_not_found} when no chain matched, none when the listener filters gave
 * up). Built only when the listener has access logs.
 */
final class ListenerLogInfo implements StreamInfo {
  private final Channel ch;
  private final long startNanos;
  private final long startEpochMillis;
  private final long endNanos;
  private final int flags;
  private final @Nullable String details;
  private final String serverName;

  private ListenerLogInfo(
      Channel ch, long startNanos, int flags, @Nullable String details, String serverName) {
    this.ch = ch;
    this.startNanos = startNanos;
    this.endNanos = System.nanoTime();
    this.startEpochMillis = System.currentTimeMillis() - (endNanos - startNanos) / 1_000_000;
    this.flags = flags;
    this.details = details;
    this.serverName = serverName;
  }

  /**
   * A connection no filter chain matched: flag {@code NR}, details {@code filter_chain_not_found}.
   */
  static void noChain(Channel ch, ListenerConfig config, long startNanos, String serverName) {
    List<FileAccessLog> logs = config.accessLogs();
    if (!logs.isEmpty()) {
      emit(
          logs,
          new ListenerLogInfo(
              ch, startNanos, ResponseFlag.NR.bit(), "filter_chain_not_found", serverName));
    }
  }

  /**
   * A connection the listener filters closed before a chain was chosen (their timeout without
   * {@code continue_on_listener_filters_timeout}, or the peer closed while they waited): logged
   * without flags, as Envoy's {@code ActiveTcpSocket::unlink} does for a socket never connected.
   */
  static void notConnected(Channel ch, ListenerConfig config, long startNanos) {
    List<FileAccessLog> logs = config.accessLogs();
    if (!logs.isEmpty()) {
      emit(logs, new ListenerLogInfo(ch, startNanos, 0, null, ""));
    }
  }

  /**
   * A connection a filter chain took: its line when it ends, as Envoy's {@code ActiveTcpConnection}
   * emits the listener's logs as it goes, with the connection's stream info: a TCP proxy's session
   * (the one its own {@code access_log} writes, with bytes, upstream and flags), else the
   * connection's addresses and duration. Run after the connection's own handlers saw it close, so
   * the TCP proxy's line comes first.
   */
  static void atEnd(Channel ch, ListenerConfig config, long startNanos, String serverName) {
    List<FileAccessLog> logs = config.accessLogs();
    if (logs.isEmpty()) {
      return;
    }
    ch.closeFuture()
        .addListener(
            f -> {
              try {
                ch.eventLoop()
                    .execute(
                        () -> {
                          StreamInfo info = dev.bowline.proxy.tcp.TcpSession.of(ch);
                          emit(
                              logs,
                              info != null
                                  ? info
                                  : new ListenerLogInfo(ch, startNanos, 0, null, serverName));
                        });
              } catch (java.util.concurrent.RejectedExecutionException e) {
                // the loop is shutting down: no line, as Envoy's workers stop without one
              }
            });
  }

  private static void emit(List<FileAccessLog> logs, StreamInfo info) {
    for (int i = 0; i < logs.size(); i++) {
      logs.get(i).log(info);
    }
  }

  @Override
  public long startEpochMillis() {
    return startEpochMillis;
  }

  @Override
  public long startNanos() {
    return startNanos;
  }

  @Override
  public long durationNanos() {
    return Math.max(1, endNanos - startNanos);
  }

  @Override
  public long responseStartNanos() {
    return 0;
  }

  @Override
  public int responseCode() {
    return 0;
  }

  @Override
  public int responseFlags() {
    return flags;
  }

  @Override
  public @Nullable String responseCodeDetails() {
    return details;
  }

  @Override
  public long bytesReceived() {
    return 0;
  }

  @Override
  public long bytesSent() {
    return 0;
  }

  @Override
  public String protocol() {
    return "";
  }

  @Override
  public HttpHeaders requestHeaders() {
    return EmptyHttpHeaders.INSTANCE;
  }

  @Override
  public String method() {
    return "";
  }

  @Override
  public String path() {
    return "";
  }

  @Override
  public @Nullable HttpHeaders responseHeaders() {
    return null;
  }

  @Override
  public @Nullable HttpHeaders responseTrailers() {
    return null;
  }

  @Override
  public @Nullable String upstreamCluster() {
    return null;
  }

  @Override
  public @Nullable String upstreamHost() {
    return null;
  }

  @Override
  public @Nullable String routeName() {
    return null;
  }

  @Override
  public String downstreamRemoteAddress() {
    return address(ch.remoteAddress());
  }

  @Override
  public String downstreamLocalAddress() {
    return address(ConnectionInfo.localAddress(ch));
  }

  @Override
  public @Nullable InetSocketAddress downstreamLocal() {
    return ConnectionInfo.localAddress(ch) instanceof InetSocketAddress i ? i : null;
  }

  @Override
  public @Nullable InetSocketAddress downstreamDirectRemote() {
    return ch.remoteAddress() instanceof InetSocketAddress i ? i : null;
  }

  @Override
  public String requestedServerName() {
    return serverName;
  }

  @Override
  public <T> @Nullable T get(StateKey<T> key) {
    return null; // no filter ran: no filter state
  }

  @Override
  public <T> void put(StateKey<T> key, T value) {
    // nothing reads it
  }

  private static String address(@Nullable SocketAddress a) {
    return a instanceof InetSocketAddress i
        ? i.getAddress().getHostAddress() + ":" + i.getPort()
        : "-";
  }
}
