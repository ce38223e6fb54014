package dev.bowline.proxy.network.metadataexchange;

import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.PendingWriteQueue;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import org.jspecify.annotations.Nullable;

/**
 * One connection's side of the exchange, as istio-proxy's filter: once the TLS handshake is done, a
 * negotiated ALPN equal to the configured protocol starts the exchange, anything else (or no TLS)
 * records "no peer". In an exchange our frame goes out ahead of the first bytes either way (the
 * first read or the first write), and the peer's frame is taken off the front of what is read; a
 * wrong magic or a body that is not an {@code Any} of a {@code Struct} ends it with "no peer" and
 * the bytes go on untouched. Writes that come before the handshake decided wait here. The handler
 * leaves the pipeline when it is done. Runs on the connection's event loop only.
 */
final class MetadataExchangeHandler extends ChannelDuplexHandler {
  /** A peer frame larger than this is not believed (istio-proxy sends a few hundred bytes). */
  static final int MAX_FRAME = 1 << 20;

  private enum State {
    UNDECIDED,
    READING,
    DONE
  }

  private final TcpMetadataExchangeConfig config;
  private final Channel target;
  private final AttributeKey<PeerInfo> key;
  private State state = State.UNDECIDED;
  private boolean started;
  private boolean written;
  private @Nullable ByteBuf buffered;
  private @Nullable PendingWriteQueue pending;

  /**
   * A handler recording the peer under {@code key} on {@code target} (the downstream connection;
   * this connection itself for a listener filter).
   */
  MetadataExchangeHandler(
      TcpMetadataExchangeConfig config, Channel target, AttributeKey<PeerInfo> key) {
    this.config = config;
    this.target = target;
    this.key = key;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    start(ctx);
    ctx.fireChannelActive();
  }

  /** Waits for the TLS handshake (added before this handler, or by now) to decide. */
  private void start(ChannelHandlerContext ctx) {
    if (started) {
      return;
    }
    started = true;
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null) {
      decide(ctx, false);
      return;
    }
    ssl.handshakeFuture()
        .addListener(
            f -> {
              if (!ctx.isRemoved()) {
                decide(ctx, f.isSuccess() && config.protocol().equals(ssl.applicationProtocol()));
              }
            });
  }

  private void decide(ChannelHandlerContext ctx, boolean exchange) {
    if (state != State.UNDECIDED) {
      return;
    }
    if (!exchange) {
      config.stats().alpnProtocolNotFound().inc();
      finish(ctx, PeerInfo.NONE);
      return;
    }
    config.stats().alpnProtocolFound().inc();
    state = State.READING;
    if (pending != null && !pending.isEmpty()) {
      writeFrame(ctx);
      pending.removeAndWriteAll();
      ctx.flush();
    }
    if (buffered != null) {
      ByteBuf b = buffered;
      buffered = null;
      channelRead(ctx, b);
    }
  }

  private void writeFrame(ChannelHandlerContext ctx) {
    if (!written) {
      written = true;
      ctx.write(Unpooled.wrappedBuffer(config.frame()));
      config.stats().metadataAdded().inc();
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    switch (state) {
      case UNDECIDED -> {
        if (pending == null) {
          pending = new PendingWriteQueue(ctx);
        }
        pending.add(msg, promise);
      }
      case READING -> {
        writeFrame(ctx);
        ctx.write(msg, promise);
      }
      case DONE -> ctx.write(msg, promise);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state == State.DONE || !(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    ByteBuf b = buffered == null ? in : Unpooled.wrappedBuffer(buffered, in);
    buffered = null;
    if (state == State.UNDECIDED) {
      buffered = b; // before the handshake's listener ran: decided with it
      return;
    }
    if (!written) {
      writeFrame(ctx);
      ctx.flush();
    }
    if (b.readableBytes() < PeerExchange.HEADER_BYTES) {
      buffered = b;
      return;
    }
    int at = b.readerIndex();
    if (b.getInt(at) != PeerExchange.MAGIC) {
      config.stats().initialHeaderNotFound().inc();
      finish(ctx, PeerInfo.NONE);
      ctx.fireChannelRead(b);
      return;
    }
    long length = b.getUnsignedInt(at + 4);
    if (length > MAX_FRAME) {
      config.stats().headerNotFound().inc();
      finish(ctx, PeerInfo.NONE);
      ctx.fireChannelRead(b);
      return;
    }
    if (b.readableBytes() < PeerExchange.HEADER_BYTES + length) {
      buffered = b;
      return;
    }
    b.skipBytes(PeerExchange.HEADER_BYTES);
    PeerInfo peer = PeerExchange.decode(b, (int) length);
    if (peer == null) {
      config.stats().headerNotFound().inc();
      finish(ctx, PeerInfo.NONE);
    } else {
      b.skipBytes((int) length);
      finish(ctx, peer);
    }
    if (b.isReadable()) {
      ctx.fireChannelRead(b);
    } else {
      b.release();
    }
  }

  /** Records {@code peer}, tells the downstream pipeline, and leaves. */
  private void finish(ChannelHandlerContext ctx, PeerInfo peer) {
    state = State.DONE;
    if (target.attr(key).get() == null) {
      target.attr(key).set(peer);
      target.pipeline().fireUserEventTriggered(PeerExchange.Event.PEER_DECIDED);
    }
    if (pending != null && !pending.isEmpty()) {
      pending.removeAndWriteAll();
      ctx.flush();
    }
    ByteBuf b = buffered;
    buffered = null;
    // done: out of the way (later, not from inside a pipeline callback); it passes through till
    // then
    ctx.executor()
        .execute(
            () -> {
              if (!ctx.isRemoved()) {
                ctx.pipeline().remove(this);
              }
            });
    if (b != null) {
      ctx.fireChannelRead(b);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    release();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    release();
  }

  private void release() {
    if (buffered != null) {
      buffered.release();
      buffered = null;
    }
    if (pending != null) {
      pending.removeAndFailAll(new java.nio.channels.ClosedChannelException());
    }
  }
}
