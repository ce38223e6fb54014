package dev.bowline.proxy.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.MessageToMessageEncoder;
import org.jspecify.annotations.Nullable;

/**
 * A codec that runs its channel's idle timeout itself, instead of an {@link IdleTimeout} handler
 * beside it (one pipeline hop less per read and write, decision 0040): the clock starts when the
 * channel is active, stops when it goes or the codec is removed, and counts every write and read
 * completion. What counts as a read is the subclass's ({@link IdleClock#read()}): the upstream
 * codec counts any bytes, the downstream one a decoded message. Event loop only.
 *
 * <p>Decoder and encoder are called directly with the codec's own context, not through Netty's
 * {@code CombinedChannelDuplexHandler} and its delegating contexts (decision 0037, addendum 12):
 * the decoder gets the inbound events a {@link ByteToMessageDecoder} overrides (read, read
 * complete, inactive, user events, removal) and the encoder every write, which is all a {@link
 * MessageToMessageEncoder} overrides. Every other event is {@link ChannelDuplexHandler}'s, which
 * the pipeline skips (flush, read, close, writability, exceptions): what the two handlers would
 * have done with them is pass them on.
 */
abstract class IdleClockCodec<I extends ByteToMessageDecoder, O extends MessageToMessageEncoder<?>>
    extends ChannelDuplexHandler {
  /** The idle timeout's clock; null without one. */
  protected final @Nullable IdleClock idle;

  private @Nullable I decoder;
  private @Nullable O encoder;
  // the loop's clock: a read opens its batch, the read completion ends it (decision 0037, addendum
  // 14); the loop's own once the codec is added
  private LoopClock clock = LoopClock.current();

  IdleClockCodec(@Nullable IdleClock idle) {
    this.idle = idle;
  }

  /** The event loop's clock (a read batch's time inside one). */
  protected final LoopClock loopClock() {
    return clock;
  }

  /** Sets the decoder and the encoder, once, in the subclass's constructor. */
  protected final void init(I decoder, O encoder) {
    if (this.decoder != null) {
      throw new IllegalStateException("init() can not be called more than once");
    }
    this.decoder = decoder;
    this.encoder = encoder;
  }

  /** The decoder. */
  protected final I inboundHandler() {
    return decoder();
  }

  private I decoder() {
    I d = decoder;
    if (d == null) {
      throw new IllegalStateException("init() must be called before use");
    }
    return d;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    decoder(); // fails as CombinedChannelDuplexHandler did without init()
    clock = LoopClock.current();
    if (idle != null && ctx.channel().isActive() && ctx.channel().isRegistered()) {
      idle.start(ctx);
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
    clock.end(this); // removed inside its own read: no read completion comes here
    if (idle != null) {
      idle.stop();
    }
    decoder().handlerRemoved(ctx); // what it still holds goes on, then it releases its buffer
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
    if (idle != null && ctx.channel().isActive()) {
      idle.start(ctx);
    }
    ctx.fireChannelRegistered();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (idle != null) {
      idle.start(ctx);
    }
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    clock.end(this);
    if (idle != null) {
      idle.stop();
    }
    decoder().channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    clock.begin(this);
    decoder().channelRead(ctx, msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    try {
      if (idle != null) {
        idle.readComplete(clock);
      }
      decoder().channelReadComplete(ctx);
    } finally {
      clock.end(this);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    decoder().userEventTriggered(ctx, evt);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (idle != null) {
      idle.write(clock);
    }
    O e = encoder;
    if (e == null) {
      throw new IllegalStateException("init() must be called before use");
    }
    e.write(ctx, msg, promise);
  }
}
