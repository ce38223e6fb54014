package dev.bowline.proxy.http;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.http.filter.StreamContext.HttpCallback;
import dev.bowline.proxy.upstream.ResponseListener;
import dev.bowline.proxy.upstream.Upstream;
import dev.bowline.proxy.upstream.Worker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One request a filter sends upstream on its own (Envoy's async HTTP client; e.g. a JWKS fetch):
 * acquired from the worker like a routed request, its response gathered whole and handed to the
 * callback on the worker's loop. Lives on that loop; finishes exactly once (response, failure or
 * timeout).
 */
public final class UpstreamCall implements ResponseListener, Worker.AcquireCallback {
  private final Worker worker;
  private final int maxBodyBytes;
  private final HttpCallback callback;
  private @Nullable FullHttpRequest request;
  private @Nullable Upstream upstream;
  private @Nullable ScheduledFuture<?> timer;
  private int status;
  private io.netty.handler.codec.http.HttpHeaders headers =
      io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE;
  private @Nullable ByteBuf body;
  private boolean finished;

  private UpstreamCall(
      Worker worker, FullHttpRequest request, int maxBodyBytes, HttpCallback callback) {
    this.worker = worker;
    this.request = request;
    this.maxBodyBytes = maxBodyBytes;
    this.callback = callback;
  }

  /** Starts the call to {@code clusterName} of {@code snapshot} on {@code worker}'s loop. */
  public static void start(
      Worker worker,
      ProxySnapshot snapshot,
      String clusterName,
      FullHttpRequest request,
      Duration timeout,
      int maxBodyBytes,
      HttpCallback callback) {
    UpstreamCall call = new UpstreamCall(worker, request, maxBodyBytes, callback);
    ClusterConfig cluster = snapshot.clusters().get(clusterName);
    if (cluster == null) {
      call.fail("unknown cluster " + clusterName);
      return;
    }
    Endpoints endpoints = snapshot.endpointsOf(cluster).orElse(null);
    if (endpoints == null) {
      call.fail("no healthy upstream in " + clusterName);
      return;
    }
    if (!timeout.isZero()) {
      call.timer = worker.loop().schedule(call::onTimeout, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    worker.clusterStats(cluster).upstreamRqTotal().inc();
    if (!worker.acquire(cluster, endpoints, call, call)) {
      call.fail("no healthy upstream in " + clusterName);
    }
  }

  @Override
  public void acquired(Upstream up) {
    FullHttpRequest r = request;
    request = null;
    if (finished || r == null) {
      ReferenceCountUtil.release(r);
      up.abort();
      return;
    }
    upstream = up;
    up.channel().writeAndFlush(r, up.channel().voidPromise());
  }

  @Override
  public void failed(String reason) {
    fail(reason);
  }

  @Override
  public void onUpstreamObject(HttpObject msg) {
    try {
      if (finished) {
        return;
      }
      if (msg instanceof HttpResponse head) {
        status = head.status().code();
        headers = head.headers();
        body = Unpooled.buffer(256);
      }
      if (msg instanceof HttpContent c) {
        ByteBuf b = body;
        if (b == null) {
          fail("response content before its head");
          return;
        }
        if (b.readableBytes() + c.content().readableBytes() > maxBodyBytes) {
          fail("response body larger than " + maxBodyBytes + " bytes");
          return;
        }
        b.writeBytes(c.content(), c.content().readerIndex(), c.content().readableBytes());
        if (msg instanceof LastHttpContent) {
          finished = true;
          cancelTimer();
          byte[] bytes = ByteBufUtil.getBytes(b);
          b.release();
          body = null;
          callback.onResponse(
              status, headers, bytes, ((LastHttpContent) msg).trailingHeaders().copy());
        }
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void onUpstreamReset(String reason) {
    fail("upstream reset: " + reason);
  }

  @Override
  public boolean cancelled() {
    return finished;
  }

  private void onTimeout() {
    fail("timeout");
  }

  private void fail(String reason) {
    if (finished) {
      return;
    }
    finished = true;
    cancelTimer();
    ReferenceCountUtil.release(request);
    request = null;
    ByteBuf b = body;
    body = null;
    if (b != null) {
      b.release();
    }
    Upstream up = upstream;
    upstream = null;
    if (up != null) {
      up.abort();
    }
    callback.onFailure(reason);
  }

  private void cancelTimer() {
    var t = timer;
    timer = null;
    if (t != null) {
      t.cancel(false);
    }
  }

  /** For logs: which worker's loop runs the call. */
  @Override
  public String toString() {
    return "UpstreamCall[" + worker.loop() + "]";
  }
}
