package dev.bowline.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;

/**
 * An upstream HTTP/1.1 connection: hands what it reads to the request it currently serves and
 * returns itself to its host's pool when a response ends with keep-alive.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter implements Upstream {
  private final Worker worker;
  private final Host host;
  private final ClusterHosts cluster;
  final Channel channel;
  private @Nullable ResponseListener listener;
  private boolean keepAlive;
  private int requests;
  // the cluster's http_protocol_options.enable_trailers: without it response trailers are dropped
  private final boolean enableTrailers;

  private final dev.bowline.proxy.transport.Http1ClientCodec codec;

  // the cluster's max_connection_duration ran out: no new request; it closes once idle
  private boolean expired;

  UpstreamConnection(
      Worker worker,
      Host host,
      ClusterHosts cluster,
      Channel channel,
      dev.bowline.proxy.transport.Http1ClientCodec codec) {
    this.worker = worker;
    this.host = host;
    this.cluster = cluster;
    this.channel = channel;
    this.codec = codec;
    this.enableTrailers = cluster.config.policy().http1EnableTrailers();
  }

  @Override
  public Channel channel() {
    return channel;
  }

  void bind(ResponseListener l) {
    // a previous request may have paused reading for backpressure; this one starts fresh
    channel.config().setAutoRead(true);
    this.listener = l;
    if (++requests == cluster.config.maxRequestsPerConnection()) {
      cluster.stats.upstreamCxMaxRequests().inc(); // its last request: it closes after this one
    }
    host.begin();
  }

  /**
   * Hands the connection over after a {@code 101 Switching Protocols}: it no longer belongs to the
   * pool or to this handler; the caller rewires the pipeline.
   */
  public void detachForUpgrade() {
    if (listener != null) {
      listener = null;
      host.end();
    }
    keepAlive = false;
  }

  @Override
  public void abort() {
    if (listener != null) {
      listener = null;
      host.end();
    }
    channel.close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ResponseListener l = listener;
    if (l == null || !(msg instanceof HttpObject obj)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse r) {
      keepAlive = HttpUtil.isKeepAlive(r) && r.status().code() >= 200;
      if (r.status().code() >= 200) {
        cluster.state.httpResult(host.health, r.status().code());
        if (!keepAlive) {
          // connection: close (or HTTP/1.0 without keep-alive): Envoy's HTTP/1 pool counts the
          // peer's notice and closes the connection after the response
          cluster.stats.upstreamCxCloseNotify().inc();
        }
      }
    }
    boolean last = msg instanceof LastHttpContent;
    if (last) {
      if (!enableTrailers && !((LastHttpContent) msg).trailingHeaders().isEmpty()) {
        // Envoy's HTTP/1 codec ignores trailers unless enable_trailers: the body ends without them
        obj = new DefaultLastHttpContent(((LastHttpContent) msg).content());
      }
      listener = null;
      host.end();
      int max = cluster.config.maxRequestsPerConnection();
      // a response that ended before its request went out whole: the peer still expects the rest
      // of that body, so the connection cannot serve another request (Envoy's "response before
      // request complete" closes it)
      if (keepAlive
          && channel.isActive()
          && codec.requestDone()
          && !expired
          && (max == 0 || requests < max)) {
        worker.release(host, cluster, channel);
      } else {
        channel.close();
      }
    }
    l.onUpstreamObject(obj);
  }

  /**
   * Starts the clock of the cluster's {@code max_connection_duration} (Envoy's starts when the
   * connection is up): once it runs out the connection is counted ({@code
   * upstream_cx_max_duration_reached}) and drains, closing at once if idle, else after its
   * response.
   */
  void expireAfter(java.time.Duration duration) {
    var timer =
        channel
            .eventLoop()
            .schedule(
                this::durationReached,
                duration.toNanos(),
                java.util.concurrent.TimeUnit.NANOSECONDS);
    channel.closeFuture().addListener(f -> timer.cancel(false));
  }

  private void durationReached() {
    if (expired || !channel.isActive()) {
      return;
    }
    expired = true;
    cluster.stats.upstreamCxMaxDurationReached().inc();
    if (listener == null) {
      host.idle.remove(channel);
      channel.close();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    ResponseListener l = listener;
    if (l != null) {
      l.onUpstreamWritabilityChanged(channel.isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    host.idle.remove(channel);
    ResponseListener l = listener;
    if (l != null) {
      listener = null;
      host.end();
      cluster.state.localFailure(host.health, false); // reset before the response ended
      l.onUpstreamReset("connection termination");
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
      if (listener == null) {
        ctx.close(); // idle_timeout of a pooled connection
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  /** The connection for {@code ch}, which must be an upstream connection of a worker. */
  static UpstreamConnection of(Channel ch) {
    return ch.pipeline().get(UpstreamConnection.class);
  }
}
