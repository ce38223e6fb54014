package dev.bowline.proxy.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import org.jspecify.annotations.Nullable;

/**
 * A codec that runs its channel's idle timeout itself, instead of an {@link IdleTimeout} handler
 * beside it (one pipeline hop less per read and write, decision 0040): the clock starts when the
 * channel is active, stops when it goes or the codec is removed, and counts every write and read
 * completion. What counts as a read is the subclass's ({@link IdleClock#read()}): the upstream
 * codec counts any bytes, the downstream one a decoded message. Event loop only.
 */
abstract class IdleClockCodec<I extends ChannelInboundHandler, O extends ChannelOutboundHandler>
    extends CombinedChannelDuplexHandler<I, O> {
  /** The idle timeout's clock; null without one. */
  protected final @Nullable IdleClock idle;

  IdleClockCodec(@Nullable IdleClock idle) {
    this.idle = idle;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    if (idle != null && ctx.channel().isActive() && ctx.channel().isRegistered()) {
      idle.start(ctx);
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
    if (idle != null) {
      idle.stop();
    }
    super.handlerRemoved(ctx);
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
    if (idle != null && ctx.channel().isActive()) {
      idle.start(ctx);
    }
    super.channelRegistered(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (idle != null) {
      idle.start(ctx);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (idle != null) {
      idle.stop();
    }
    super.channelInactive(ctx);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (idle != null) {
      idle.readComplete();
    }
    super.channelReadComplete(ctx);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    if (idle != null) {
      idle.write();
    }
    super.write(ctx, msg, promise);
  }
}
