package dev.bowline.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/** One request as a stream of a pooled upstream HTTP/2 connection. */
final class H2Stream extends ChannelInboundHandlerAdapter implements Upstream {
  private final Host host;
  private @Nullable ResponseListener listener;
  private @Nullable Channel channel;

  H2Stream(Host host, ResponseListener listener) {
    this.host = host;
    this.listener = listener;
    host.begin();
  }

  void opened(Channel stream) {
    this.channel = stream;
  }

  @Override
  public Channel channel() {
    return java.util.Objects.requireNonNull(channel, "stream not open");
  }

  @Override
  public void abort() {
    if (listener != null) {
      listener = null;
      host.end();
    }
    Channel c = channel;
    if (c != null) {
      c.close(); // RST_STREAM
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ResponseListener l = listener;
    if (l == null || !(msg instanceof HttpObject obj)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof io.netty.handler.codec.http.HttpResponse r && r.status().code() >= 200) {
      host.state.httpResult(host.health, r.status().code());
    }
    if (msg instanceof LastHttpContent) {
      listener = null;
      host.end();
    }
    l.onUpstreamObject(obj);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    ResponseListener l = listener;
    if (l != null) {
      listener = null;
      host.end();
      host.state.localFailure(host.health, false);
      l.onUpstreamReset("remote reset");
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
