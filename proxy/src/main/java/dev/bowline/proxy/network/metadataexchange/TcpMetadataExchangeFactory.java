package dev.bowline.proxy.network.metadataexchange;

import com.google.protobuf.Any;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.protos.MetadataExchangeProto;
import dev.bowline.proxy.http.filter.FilterEnvironment;
import dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangePlugin;
import dev.bowline.proxy.network.NetworkFilterFactory;
import dev.bowline.proxy.network.ReadFilter;
import dev.bowline.proxy.network.UpstreamFilter;
import dev.bowline.proxy.network.UpstreamFilterFactory;

/**
 * {@code envoy.tcp.metadataexchange.config.MetadataExchange} as a listener filter (istiod's {@code
 * istio.metadata_exchange} on inbound TCP chains: the downstream peer) and as a cluster filter (on
 * outbound clusters: the upstream peer). {@code protocol} is the ALPN that must have been
 * negotiated for the exchange to happen ({@code istio-peer-exchange}); it is required.
 */
public final class TcpMetadataExchangeFactory
    implements NetworkFilterFactory, UpstreamFilterFactory {
  /** The config's type URL. */
  public static final String TYPE_URL = MetadataExchangePlugin.CONFIG_TYPE_URL;

  private final byte[] frame;
  private final MetadataExchangeStats stats;

  /** A factory telling peers about {@code env}'s node and counting into its stats. */
  public TcpMetadataExchangeFactory(FilterEnvironment env) {
    this.frame =
        PeerExchange.frame(
            env.node().id(), MetadataExchangePlugin.exchanged(env.node().metadata()));
    this.stats = MetadataExchangeStats.create(env.stats());
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public ReadFilter parse(Any typedConfig) throws InvalidProtocolBufferException {
    return new Downstream(config(typedConfig));
  }

  @Override
  public UpstreamFilter parseUpstream(Any typedConfig) throws InvalidProtocolBufferException {
    return new Upstream(config(typedConfig));
  }

  private TcpMetadataExchangeConfig config(Any typedConfig) throws InvalidProtocolBufferException {
    var d = MetadataExchangeProto.descriptor();
    DynamicMessage m = DynamicMessage.parseFrom(d, typedConfig.getValue());
    if (!m.getUnknownFields().asMap().isEmpty()) {
      throw new IllegalArgumentException("unknown field in MetadataExchange");
    }
    String protocol = (String) m.getField(d.findFieldByName("protocol"));
    if (protocol.isEmpty()) {
      throw new IllegalArgumentException("protocol: must not be empty (e.g. istio-peer-exchange)");
    }
    return new TcpMetadataExchangeConfig(protocol, frame, stats);
  }

  /** The listener filter: learns the downstream peer. */
  record Downstream(TcpMetadataExchangeConfig config) implements ReadFilter {
    @Override
    public void install(io.netty.channel.Channel ch) {
      ch.pipeline().addLast(new MetadataExchangeHandler(config, ch, PeerExchange.DOWNSTREAM_PEER));
    }
  }

  /** The cluster filter: learns the upstream peer, recorded on the downstream connection. */
  record Upstream(TcpMetadataExchangeConfig config) implements UpstreamFilter {
    @Override
    public void install(io.netty.channel.Channel upstream, io.netty.channel.Channel downstream) {
      upstream
          .pipeline()
          .addLast(new MetadataExchangeHandler(config, downstream, PeerExchange.UPSTREAM_PEER));
    }
  }
}
