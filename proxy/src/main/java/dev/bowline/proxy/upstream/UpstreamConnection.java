package dev.bowline.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
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
  // the cluster's max_headers_count: a response (or its trailers) with more fields is refused
  private final int maxHeaders;
  final Channel channel;
  private @Nullable ResponseListener listener;
  private boolean keepAlive;
  private int requests;
  // the cluster's http_protocol_options.enable_trailers: without it response trailers are dropped
  private final boolean enableTrailers;

  private final dev.bowline.proxy.transport.Http1ClientCodec codec;

  // the cluster's max_connection_duration ran out: no new request; it closes once idle
  private boolean expired;

  // an interim (1xx) response's head was read: the empty last content the decoder ends it with is
  // not the end of the exchange
  private boolean interim;

  // handed over after a 101: nothing that still reaches this handler is a response
  private boolean upgraded;

  /**
   * The reset reason of a request whose upstream broke HTTP/1.1 (Envoy's {@code ProtocolError}).
   */
  public static final String PROTOCOL_ERROR = "protocol error";

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
    this.maxHeaders = cluster.config.policy().maxResponseHeadersCount();
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
    upgraded = true;
    if (listener != null) {
      listener = null;
      host.end();
    }
    keepAlive = false;
  }

  @Override
  public void timedOut(boolean beforeResponse) {
    host.timedOut(beforeResponse);
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
    if (l == null) {
      boolean timeout = msg instanceof HttpResponse r && r.status().code() == 408;
      ReferenceCountUtil.release(msg);
      if (!upgraded && channel.isActive()) {
        // an answer while no request is in flight (Envoy's "premature response"): kept, the
        // connection would hand it, or what is left of it, to the next request as its response.
        // A 408 is how some servers close an idle keep-alive connection: Envoy does not count it.
        if (timeout) {
          host.idle.remove(channel);
          channel.close();
        } else {
          protocolError();
        }
      }
      return;
    }
    if (!(msg instanceof HttpObject obj)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (obj.decoderResult().isFailure() || invalid(msg, maxHeaders)) {
      // bytes that are no HTTP/1.1 response, a status that is no 3-digit code, or more header (or
      // trailer) fields than Envoy's codec takes
      ReferenceCountUtil.release(msg);
      protocolError();
      return;
    }
    if (msg instanceof HttpResponse r) {
      int code = r.status().code();
      if (code < 200 && code != 101) {
        // An interim response (100 Continue, 102 Processing, 103 Early Hints, asked for or not):
        // the final one follows on this connection. The decoder ends it with an empty last
        // content, which is not the end of this exchange. Envoy's codec refuses a body on it.
        String length = r.headers().get(HttpHeaderNames.CONTENT_LENGTH);
        if (length != null && !length.equals("0")) {
          ReferenceCountUtil.release(msg);
          protocolError();
          return;
        }
        interim = true;
        l.onUpstreamObject(obj);
        return;
      }
      keepAlive = HttpUtil.isKeepAlive(r) && code >= 200;
      if (code >= 200) {
        cluster.state.httpResult(host.health, code);
        host.responded(code);
        if (!keepAlive) {
          // connection: close (or HTTP/1.0 without keep-alive): Envoy's HTTP/1 pool counts the
          // peer's notice and closes the connection after the response
          cluster.stats.upstreamCxCloseNotify().inc();
        }
      }
    }
    boolean last = msg instanceof LastHttpContent;
    if (last && interim) {
      interim = false;
      ReferenceCountUtil.release(msg);
      return;
    }
    if (last) {
      if (!enableTrailers && !((LastHttpContent) msg).trailingHeaders().isEmpty()) {
        // Envoy's HTTP/1 codec ignores trailers unless enable_trailers: the body ends without them
        obj = new DefaultLastHttpContent(((LastHttpContent) msg).content());
      }
      listener = null;
      host.end();
      int max = cluster.config.maxRequestsPerConnection();
      if (codec.unreadInput()) {
        // the same read brought more than this response: no request is left to answer, and kept,
        // the connection would answer the next request with it (Envoy: "extraneous data after
        // response complete", a protocol error)
        cluster.stats.upstreamCxProtocolError().inc();
        channel.close();
      } else if (keepAlive
          && channel.isActive()
          && codec.requestDone()
          && !expired
          && (max == 0 || requests < max)) {
        // a response that ended before its request went out whole leaves the peer expecting the
        // rest of that body, so the connection cannot serve another request (Envoy's "response
        // before request complete" closes it)
        worker.release(host, cluster, channel);
      } else {
        channel.close();
      }
    }
    l.onUpstreamObject(obj);
  }

  /**
   * Whether {@code msg} is a response Envoy's HTTP/1 codec refuses (a codec protocol error there)
   * though Netty's decoder takes it: a status code outside 100-999 (Netty reads {@code HTTP/1.1 2
   * OK} as status 2, which the proxy took for an interim response and then passed its body on
   * without a head: found by Http1UpstreamFuzzTest), or more header or trailer fields than {@code
   * max_headers_count} of the cluster (default 100).
   */
  private static boolean invalid(Object msg, int max) {
    if (msg instanceof HttpResponse r) {
      int code = r.status().code();
      return code < 100 || code > 999 || r.headers().size() > max;
    }
    return msg instanceof LastHttpContent last && last.trailingHeaders().size() > max;
  }

  /**
   * The upstream sent what is no answer to the request in flight, or sent one while none was:
   * counted ({@code upstream_cx_protocol_error}), the connection closes, and a request in flight is
   * reset with {@code protocol error} (Envoy's router answers 502 {@code UPE} before the response
   * began).
   */
  private void protocolError() {
    cluster.stats.upstreamCxProtocolError().inc();
    host.idle.remove(channel);
    ResponseListener l = listener;
    if (l != null) {
      listener = null;
      host.end();
      host.failed();
      cluster.state.localFailure(host.health, false);
    }
    channel.close();
    if (l != null) {
      l.onUpstreamReset(PROTOCOL_ERROR);
    }
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
      host.failed();
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
