package dev.bowline.proxy.transport;

import dev.bowline.proxy.config.KeepaliveSettings;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP/2 connection's {@code connection_keepalive}, as Envoy's codec keeps it ({@code
 * ConnectionImpl::sendKeepalive}, {@code onKeepaliveResponse}, {@code onKeepaliveResponseTimeout},
 * {@code onBeforeFrameReceived}): a PING (its payload the time in ms since the epoch, as Envoy's)
 * {@code interval} plus a random part of {@code interval_jitter} after the connection opens and
 * after each PING ACK; once a PING is out, every frame read puts the deadline {@code timeout} later
 * (a slow link's head-of-line blocking is not a dead peer), and when it passes with no ACK the
 * connection is given to {@code onTimeout} (which counts {@code http2.keepalive_timeout} and closes
 * it without GOAWAY, Envoy's {@code NoFlush} close). Any PING ACK answers, whoever's PING it was,
 * as in Envoy. {@code connection_idle_interval} (a client connection that received nothing for that
 * long PINGs before its next stream) is {@link #beforeNewStream}.
 *
 * <p>Right after Netty's frame codec, which hands it every connection-level frame and every stream
 * frame before the multiplexer routes them. One task per connection at a time (the next PING, or
 * the ACK's deadline); added only when {@code connection_keepalive} is set, so a connection without
 * it pays nothing. While no PING is out a frame costs a field read; while one is out, a {@code
 * nanoTime}. Event loop only.
 */
public final class Http2Keepalive extends ChannelInboundHandlerAdapter implements Runnable {
  private static final System.Logger LOG = System.getLogger(Http2Keepalive.class.getName());

  private final long intervalMillis; // 0: no PING on an interval
  private final long jitterBound; // ms: Envoy's interval * jitter% / 100, truncated
  private final long timeoutNanos;
  private final long idleNanos; // connection_idle_interval, 0: none
  private final Consumer<ChannelHandlerContext> onTimeout;
  private @Nullable ChannelHandlerContext ctx;
  private @Nullable ScheduledFuture<?> task;
  private boolean awaiting; // a PING is out, its ACK not in
  private long lastRead; // awaiting, or with an idle interval: when a frame last came in
  private boolean done;

  /** The keepalive {@code s}; a connection whose ACK does not come goes to {@code onTimeout}. */
  public Http2Keepalive(KeepaliveSettings s, Consumer<ChannelHandlerContext> onTimeout) {
    this.intervalMillis = s.interval().toMillis();
    this.jitterBound = (long) (s.jitterPercent() * intervalMillis / 100);
    this.timeoutNanos = s.timeout().toNanos();
    this.idleNanos = s.connectionIdleInterval().toNanos();
    this.onTimeout = onTimeout;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    lastRead = System.nanoTime();
    if (ctx.channel().isActive()) {
      nextPing();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (task == null && !awaiting) {
      nextPing();
    }
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2PingFrame p && p.ack()) {
      answered();
    } else if (awaiting || idleNanos > 0) {
      lastRead = System.nanoTime();
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  /**
   * A client connection is about to open a stream: with {@code connection_idle_interval}, a PING
   * first if nothing came in for that long and none is out (Envoy's client {@code newStream}).
   */
  public void beforeNewStream() {
    if (idleNanos > 0 && !awaiting && !done && System.nanoTime() - lastRead > idleNanos) {
      ping();
    }
  }

  /** The task: the next PING, or the deadline of the one out. */
  @Override
  public void run() {
    task = null;
    var c = ctx;
    if (done || c == null || !c.channel().isActive()) {
      return;
    }
    if (!awaiting) {
      ping();
      return;
    }
    long late = System.nanoTime() - lastRead - timeoutNanos;
    if (late < 0) {
      schedule(-late, TimeUnit.NANOSECONDS); // a frame came in: the ACK may be behind it
      return;
    }
    done = true;
    LOG.log(
        System.Logger.Level.DEBUG,
        "event=h2_ping_timeout remote={0} Closing connection due to keepalive timeout",
        c.channel().remoteAddress());
    onTimeout.accept(c);
  }

  private void ping() {
    var c = ctx;
    if (c == null) {
      return;
    }
    if (task != null) {
      task.cancel(false);
      task = null;
    }
    awaiting = true;
    lastRead = System.nanoTime();
    c.writeAndFlush(new DefaultHttp2PingFrame(System.currentTimeMillis()));
    schedule(timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void answered() {
    if (done) {
      return;
    }
    awaiting = false;
    lastRead = System.nanoTime();
    if (task != null) {
      task.cancel(false);
      task = null;
    }
    nextPing();
  }

  private void nextPing() {
    if (intervalMillis == 0 || done) {
      return;
    }
    long ms = intervalMillis;
    if (jitterBound > 0) {
      ms += ThreadLocalRandom.current().nextLong(jitterBound);
    }
    schedule(ms, TimeUnit.MILLISECONDS);
  }

  private void schedule(long delay, TimeUnit unit) {
    var c = ctx;
    if (c != null) {
      task = c.executor().schedule(this, delay, unit);
    }
  }

  private void stop() {
    done = true;
    var t = task;
    task = null;
    if (t != null) {
      t.cancel(false);
    }
  }
}
