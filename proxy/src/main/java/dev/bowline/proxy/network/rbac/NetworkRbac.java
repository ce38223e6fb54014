package dev.bowline.proxy.network.rbac;

import com.google.protobuf.Struct;
import dev.bowline.proxy.config.ConnectionInfo;
import dev.bowline.proxy.network.ReadFilter;
import dev.bowline.proxy.rbac.RbacEngine;
import dev.bowline.proxy.rbac.RbacInput;
import dev.bowline.proxy.rbac.RbacStats;
import dev.bowline.proxy.tls.TlsPeer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The network RBAC filter's config and its per-connection handler: on the first bytes (after the
 * TLS handshake, so the peer is known) the shadow engine is counted, then the enforced one decides;
 * a denied connection is closed without reading further, an allowed one loses the handler.
 *
 * @param rules the enforced engine; empty: nothing is enforced
 * @param shadowRules the shadow engine; empty: none
 * @param stats {@code <stat_prefix>rbac.*}
 */
record NetworkRbac(
    Optional<RbacEngine> rules,
    Optional<RbacEngine> shadowRules,
    RbacStats stats,
    String shadowPrefix)
    implements ReadFilter {
  private static final System.Logger LOG = System.getLogger(NetworkRbac.class.getName());

  /** Where Envoy's network RBAC filter leaves its dynamic metadata. */
  static final String METADATA_NAMESPACE = "envoy.filters.network.rbac";

  @Override
  public void install(Channel ch) {
    if (rules.isPresent() || shadowRules.isPresent()) {
      ch.pipeline().addLast(new Handler(this));
    }
  }

  /** Whether connection {@code in} may go on; counts as Envoy does. */
  boolean decide(RbacInput in) {
    return decide(in, null);
  }

  /**
   * Whether connection {@code in} may go on; counts as Envoy does and leaves the shadow result in
   * {@code ch}'s dynamic metadata ({@code envoy.filters.network.rbac}, keys under the shadow
   * prefix) for the filters after it (Istio's CUSTOM ext_authz).
   */
  boolean decide(RbacInput in, io.netty.channel.@Nullable Channel ch) {
    if (shadowRules.isPresent()) {
      RbacEngine e = shadowRules.get();
      RbacEngine.Policy matched = e.firstMatch(in);
      boolean allowed = e.allowed(matched);
      (allowed ? stats.shadowAllowed() : stats.shadowDenied()).inc();
      if (ch != null) {
        Struct.Builder md = Struct.newBuilder();
        if (matched != null) {
          md.putFields(
              shadowPrefix + "shadow_effective_policy_id",
              com.google.protobuf.Value.newBuilder().setStringValue(matched.name()).build());
        }
        md.putFields(
            shadowPrefix + "shadow_engine_result",
            com.google.protobuf.Value.newBuilder()
                .setStringValue(allowed ? "allowed" : "denied")
                .build());
        dev.bowline.proxy.network.ConnectionMetadata.set(ch, METADATA_NAMESPACE, md.build());
      }
    }
    if (rules.isEmpty()) {
      return true;
    }
    RbacEngine e = rules.get();
    RbacEngine.Policy matched = e.firstMatch(in);
    if (e.action() == RbacEngine.Action.LOG) {
      (matched != null ? stats.logged() : stats.notLogged()).inc();
    }
    if (e.allowed(matched)) {
      stats.allowed().inc();
      return true;
    }
    stats.denied().inc();
    return false;
  }

  private static final class Handler extends ChannelInboundHandlerAdapter {
    private final NetworkRbac rbac;

    Handler(NetworkRbac rbac) {
      this.rbac = rbac;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (rbac.decide(new ConnectionInput(ctx.channel()), ctx.channel())) {
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(msg);
        return;
      }
      ReferenceCountUtil.release(msg);
      LOG.log(
          Level.DEBUG,
          "event=rbac_connection_denied remote={0} local={1}",
          ctx.channel().remoteAddress(),
          dev.bowline.proxy.config.ConnectionInfo.localAddress(ctx.channel()));
      ctx.close();
    }
  }

  /** What RBAC sees of a connection: no request head, no dynamic metadata. */
  record ConnectionInput(Channel ch) implements RbacInput {
    private static final byte[] NONE = new byte[0];

    @Override
    public @Nullable String header(String name) {
      return null;
    }

    @Override
    public @Nullable String urlPath() {
      return null;
    }

    @Override
    public byte[] destinationIp() {
      return dev.bowline.proxy.config.ConnectionInfo.localAddress(ch) instanceof InetSocketAddress a
          ? a.getAddress().getAddress()
          : NONE;
    }

    @Override
    public int destinationPort() {
      return dev.bowline.proxy.config.ConnectionInfo.localAddress(ch) instanceof InetSocketAddress a
          ? a.getPort()
          : 0;
    }

    @Override
    public byte[] directRemoteIp() {
      return ch.remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getAddress() : NONE;
    }

    @Override
    public byte[] remoteIp() {
      return directRemoteIp();
    }

    @Override
    public @Nullable TlsPeer tlsPeer() {
      return TlsPeer.of(ch).orElse(null);
    }

    @Override
    public String requestedServerName() {
      ConnectionInfo info = ConnectionInfo.of(ch);
      return info == null ? "" : info.serverName();
    }

    @Override
    public @Nullable Struct dynamicMetadata(String filter) {
      return null;
    }
  }
}
