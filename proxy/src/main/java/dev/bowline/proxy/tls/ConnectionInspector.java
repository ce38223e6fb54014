package dev.bowline.proxy.tls;

import dev.bowline.proxy.config.ListenerConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The listener filters {@code envoy.filters.listener.tls_inspector} and {@code
 * envoy.filters.listener.http_inspector} on one new connection: buffers its first bytes until it
 * can tell TLS (with SNI and ALPN from the ClientHello) from plaintext (and, for plaintext,
 * HTTP/1.x or h2c from the first line), reports what it found, then leaves the pipeline, handing
 * the buffered bytes to whatever the callback installed behind it. Nothing is consumed.
 */
public final class ConnectionInspector extends ByteToMessageDecoder {
  /** Envoy's http_inspector gives up after this many bytes without a full request line. */
  private static final int HTTP_MAX_PEEK = 8192;

  private static final byte[] H2_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** What the inspectors found. */
  public record Found(String transportProtocol, String serverName, List<String> protocols) {
    public Found {
      protocols = List.copyOf(protocols);
    }
  }

  private final ListenerConfig.Inspection inspection;
  private final Consumer<Found> done;
  private final Runnable timedOut;
  private final Runnable closed;
  private @Nullable ScheduledFuture<?> timer;
  private boolean finished;

  /**
   * @param done called once on the channel's event loop with what was found; it installs the
   *     chain's handlers (after this one)
   * @param timedOut called when nothing conclusive arrived within the timeout and the listener does
   *     not continue on timeout
   */
  public ConnectionInspector(
      ListenerConfig.Inspection inspection, Consumer<Found> done, Runnable timedOut) {
    this(inspection, done, timedOut, () -> {});
  }

  /**
   * As above, and {@code closed} called when the connection ended before anything conclusive
   * arrived (the peer closed or reset it while it was inspected).
   */
  public ConnectionInspector(
      ListenerConfig.Inspection inspection,
      Consumer<Found> done,
      Runnable timedOut,
      Runnable closed) {
    this.inspection = inspection;
    this.done = done;
    this.timedOut = timedOut;
    this.closed = closed;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    super.channelInactive(ctx); // decodes what is left first: it may still find a chain
    if (!finished) {
      finished = true;
      if (timer != null) {
        timer.cancel(false);
      }
      closed.run();
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (!inspection.timeout().isZero()) {
      timer =
          ctx.executor()
              .schedule(
                  () -> {
                    if (finished) {
                      return;
                    }
                    if (inspection.continueOnTimeout()) {
                      finish(ctx, new Found("raw_buffer", "", List.of()));
                    } else {
                      finished = true;
                      timedOut.run();
                      ctx.close();
                    }
                  },
                  inspection.timeout().toMillis(),
                  TimeUnit.MILLISECONDS);
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (finished || !in.isReadable()) {
      return;
    }
    if (inspection.tls() && in.getUnsignedByte(in.readerIndex()) == 22) {
      switch (ClientHello.read(in)) {
        case ClientHello.NeedMore n -> {
          return;
        }
        case ClientHello.Found f ->
            finish(ctx, new Found("tls", f.hello().serverName(), f.hello().alpn()));
        case ClientHello.NotTls n -> finish(ctx, new Found("raw_buffer", "", List.of()));
      }
      return;
    }
    if (!inspection.http()) {
      finish(ctx, new Found("raw_buffer", "", List.of()));
      return;
    }
    String proto = sniffHttp(in);
    if (proto == null) {
      return; // need more
    }
    finish(ctx, new Found("raw_buffer", "", proto.isEmpty() ? List.of() : List.of(proto)));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    dev.bowline.proxy.transport.PeerErrors.caught(ctx, cause); // reset while being inspected
  }

  /**
   * {@code h2c}, {@code http/1.1}, {@code http/1.0}, {@code ""} (not HTTP), or null (need more).
   */
  private static @Nullable String sniffHttp(ByteBuf in) {
    int n = in.readableBytes();
    int r = in.readerIndex();
    boolean preface = true;
    for (int i = 0; i < Math.min(n, H2_PREFACE.length); i++) {
      if (in.getByte(r + i) != H2_PREFACE[i]) {
        preface = false;
        break;
      }
    }
    if (preface) {
      return n >= H2_PREFACE.length ? "h2c" : null;
    }
    int eol = in.indexOf(r, r + Math.min(n, HTTP_MAX_PEEK), (byte) '\n');
    if (eol < 0) {
      return n >= HTTP_MAX_PEEK ? "" : null;
    }
    String line = in.toString(r, eol - r, StandardCharsets.US_ASCII).stripTrailing();
    if (line.endsWith(" HTTP/1.1")) {
      return "http/1.1";
    }
    if (line.endsWith(" HTTP/1.0")) {
      return "http/1.0";
    }
    return "";
  }

  private void finish(ChannelHandlerContext ctx, Found found) {
    finished = true;
    if (timer != null) {
      timer.cancel(false);
    }
    done.accept(found);
    if (ctx.channel().isActive()) {
      ctx.pipeline().remove(this); // hands the buffered bytes to the handlers just installed
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
    }
  }
}
