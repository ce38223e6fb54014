package dev.bowline.proxy.network.extauthz;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.UpstreamCall;
import dev.bowline.proxy.http.filter.StreamContext;
import dev.bowline.proxy.http.filter.extauthz.GrpcCheckCodec;
import dev.bowline.proxy.network.ConnectionMetadata;
import dev.bowline.proxy.network.ReadFilter;
import dev.bowline.proxy.rbac.Matcher;
import dev.bowline.proxy.runtime.ProxyRuntime;
import dev.bowline.proxy.stats.Counter;
import dev.bowline.proxy.tls.TlsPeer;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The network ext_authz filter's config and its per-connection handler: on the first bytes of a
 * connection it is enabled for, the gRPC authorizer is asked (the bytes are held meanwhile, the
 * loop never blocks); allowed, the held bytes go on and the handler leaves; denied or failed
 * (without {@code failure_mode_allow}), the connection is closed.
 *
 * @param cluster the authorizer's cluster
 * @param authority the check's {@code :authority}
 * @param timeout how long a check may take
 * @param failureModeAllow whether a failed check lets the connection through
 * @param enabledBy when present, only connections whose dynamic metadata matches are checked
 * @param counters {@code <stat_prefix>ext_authz.*}
 */
record NetworkExtAuthz(
    String cluster,
    String authority,
    Duration timeout,
    boolean failureModeAllow,
    Optional<Enabled> enabledBy,
    Counters counters)
    implements ReadFilter {
  private static final System.Logger LOG = System.getLogger(NetworkExtAuthz.class.getName());

  /** Envoy's network ext_authz counters. */
  record Counters(
      Counter total,
      Counter ok,
      Counter denied,
      Counter error,
      Counter disabled,
      Counter failureModeAllowed,
      Counter cxClosed) {}

  /** {@code filter_enabled_metadata} over the connection's metadata. */
  record Enabled(String filter, List<String> path, Matcher.ValueMatch value, boolean invert) {
    Enabled {
      path = List.copyOf(path);
    }

    boolean matches(Channel ch) {
      Struct s = ConnectionMetadata.get(ch, filter);
      Value v = null;
      for (String key : path) {
        if (s == null) {
          v = null;
          break;
        }
        v = s.getFieldsMap().get(key);
        if (v == null) {
          break;
        }
        s = v.hasStructValue() ? v.getStructValue() : null;
      }
      return value.matches(v) != invert;
    }
  }

  @Override
  public void install(Channel ch) {
    throw new UnsupportedOperationException("the network ext_authz filter needs the runtime");
  }

  @Override
  public void install(Channel ch, ProxyRuntime runtime) {
    ch.pipeline().addLast(new Handler(this, runtime));
  }

  static CheckRequest checkRequest(Channel ch) {
    AttributeContext.Peer.Builder source =
        AttributeContext.Peer.newBuilder()
            .setAddress(
                GrpcCheckCodec.address(
                    ch.remoteAddress() instanceof InetSocketAddress a ? a : null));
    TlsPeer.of(ch).ifPresent(p -> source.setPrincipal(p.principal()));
    return CheckRequest.newBuilder()
        .setAttributes(
            AttributeContext.newBuilder()
                .setSource(source)
                .setDestination(
                    AttributeContext.Peer.newBuilder()
                        .setAddress(
                            GrpcCheckCodec.address(
                                dev.bowline.proxy.config.ConnectionInfo.localAddress(ch)
                                        instanceof InetSocketAddress a
                                    ? a
                                    : null))))
        .build();
  }

  private static final class Handler extends ChannelInboundHandlerAdapter {
    private final NetworkExtAuthz config;
    private final ProxyRuntime runtime;
    private final ArrayDeque<Object> held = new ArrayDeque<>(2);
    private boolean calling;
    private @Nullable ChannelHandlerContext ctx;

    Handler(NetworkExtAuthz config, ProxyRuntime runtime) {
      this.config = config;
      this.runtime = runtime;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (calling) {
        held.add(msg);
        return;
      }
      if (config.enabledBy().isPresent() && !config.enabledBy().get().matches(ctx.channel())) {
        config.counters().disabled().inc();
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(msg);
        return;
      }
      calling = true;
      held.add(msg);
      config.counters().total().inc();
      Channel ch = ctx.channel();
      UpstreamCall.start(
          runtime.worker(ch.eventLoop()),
          runtime.snapshot(),
          config.cluster(),
          GrpcCheckCodec.frame(config.authority(), config.timeout(), checkRequest(ch)),
          config.timeout(),
          1 << 16,
          new StreamContext.HttpCallback() {
            @Override
            public void onResponse(int status, byte[] body) {
              throw new AssertionError("the four-argument onResponse is called");
            }

            @Override
            public void onResponse(
                int status, HttpHeaders headers, byte[] body, HttpHeaders trailers) {
              ch.eventLoop()
                  .execute(() -> decided(GrpcCheckCodec.response(status, headers, body, trailers)));
            }

            @Override
            public void onFailure(String reason) {
              ch.eventLoop().execute(() -> decided(new GrpcCheckCodec.Outcome.Failed(reason)));
            }
          });
    }

    private void decided(GrpcCheckCodec.Outcome o) {
      ChannelHandlerContext c = ctx;
      if (c == null || c.isRemoved()) {
        release();
        return;
      }
      boolean pass =
          switch (o) {
            case GrpcCheckCodec.Outcome.Ok ok -> {
              config.counters().ok().inc();
              yield true;
            }
            case GrpcCheckCodec.Outcome.Denied d -> {
              config.counters().denied().inc();
              yield false;
            }
            case GrpcCheckCodec.Outcome.Failed f -> {
              config.counters().error().inc();
              LOG.log(
                  Level.DEBUG,
                  "event=ext_authz_error cluster={0} reason=\"{1}\"",
                  config.cluster(),
                  f.reason());
              if (config.failureModeAllow()) {
                config.counters().failureModeAllowed().inc();
              }
              yield config.failureModeAllow();
            }
          };
      if (!pass) {
        config.counters().cxClosed().inc();
        release();
        c.close();
        return;
      }
      calling = false;
      c.pipeline().remove(this);
      Object m;
      while ((m = held.poll()) != null) {
        c.fireChannelRead(m);
      }
      c.fireChannelReadComplete();
    }

    private void release() {
      Object m;
      while ((m = held.poll()) != null) {
        ReferenceCountUtil.release(m);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      release();
      ctx.fireChannelInactive();
    }
  }
}
