package dev.bowline.proxy.http.filter.stats;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.http.filter.ResponseFlags;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import dev.bowline.proxy.network.ReadFilter;
import dev.bowline.proxy.network.metadataexchange.PeerExchange;
import dev.bowline.proxy.tcp.TcpSession;
import dev.bowline.proxy.tls.TlsPeer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * istio-proxy's stats filter on a TCP chain ({@code envoy.wasm.stats} in a network Wasm filter):
 * Istio's four TCP counters per connection, labelled with the peer the metadata exchange learned
 * (the downstream peer inbound, the upstream peer outbound), the TLS identities on the connection
 * (inbound: {@code connection_security_policy} {@code mutual_tls} when the client presented a
 * verified certificate, else {@code none}; outbound {@code unknown}, as Istio) and the TCP proxy's
 * cluster and response flags. As istio-proxy, nothing is reported while the exchange may still
 * happen; once the peer is decided the connection counts as opened and its bytes are counted as
 * they pass (istio-proxy adds them every {@code tcp_reporting_duration}); the close counts with the
 * labels of that moment. Bytes are the application's: read from and written to the downstream
 * connection, after the exchange's frames are taken off.
 *
 * @param reporter which side this listener counts as
 * @param local this workload
 * @param table where the series live
 */
record TcpStatsFilter(Reporter reporter, PeerInfo local, TcpTable table) implements ReadFilter {
  private static final String UNKNOWN = PeerInfo.UNKNOWN;
  private static final String DNS_SUFFIX = ".svc.cluster.local";

  @Override
  public void install(Channel ch) {
    ch.pipeline().addLast(new Handler(this));
  }

  private @Nullable PeerInfo peer(Channel ch) {
    return PeerExchange.peer(
        ch,
        reporter == Reporter.SOURCE ? PeerExchange.UPSTREAM_PEER : PeerExchange.DOWNSTREAM_PEER);
  }

  /** The series of connection {@code ch} as it stands now. */
  TcpSeries series(Channel ch, PeerInfo peer) {
    boolean source = reporter == Reporter.SOURCE;
    PeerInfo src = source ? local : peer;
    PeerInfo dst = source ? peer : local;
    TcpSession session = TcpSession.of(ch);
    String cluster = session == null ? null : session.cluster();
    // inbound: the downstream connection's TLS peer; outbound: the upstream connection's
    Channel tlsChannel = source ? (session == null ? null : session.upstream()) : ch;
    TlsPeer tls = tlsChannel == null ? null : TlsPeer.of(tlsChannel).orElse(null);
    String service = UNKNOWN;
    if (cluster != null && cluster.startsWith("outbound|")) {
      int last = cluster.lastIndexOf('|');
      if (last > 0 && last < cluster.length() - 1) {
        service = cluster.substring(last + 1);
      }
    }
    String serviceName = service;
    String serviceNamespace = dst.namespace();
    if (service.endsWith(DNS_SUFFIX)) {
      String[] parts = service.substring(0, service.length() - DNS_SUFFIX.length()).split("\\.");
      if (parts.length == 2) {
        serviceName = parts[0];
        serviceNamespace = parts[1];
      }
    }
    // istio-proxy reads the service from the cluster's istio.services metadata first: istiod puts
    // it on inbound clusters, whose names carry no host
    ClusterConfig chosen = session == null ? null : session.clusterConfig();
    Struct istioService = chosen == null ? null : firstIstioService(chosen);
    if (istioService != null && istioService.containsFields("host")) {
      service = istioService.getFieldsOrThrow("host").getStringValue();
      serviceName = text(istioService, "name", serviceName);
      serviceNamespace = text(istioService, "namespace", serviceNamespace);
    } else if (cluster != null
        && (cluster.equals("PassthroughCluster")
            || cluster.equals("BlackHoleCluster")
            || cluster.equals("InboundPassthroughCluster"))) {
      serviceName = cluster;
    }
    List<String> values =
        List.of(
            reporter.label(),
            src.workload(),
            src.canonicalService(),
            src.canonicalRevision(),
            src.namespace(),
            TlsLabels.sourcePrincipal(reporter, tls),
            src.app(),
            src.version(),
            src.clusterId(),
            dst.workload(),
            dst.namespace(),
            TlsLabels.destinationPrincipal(reporter, tls),
            dst.app(),
            dst.version(),
            service,
            dst.canonicalService(),
            dst.canonicalRevision(),
            serviceName,
            serviceNamespace,
            dst.clusterId(),
            "tcp",
            ResponseFlags.format(session == null ? 0 : session.flags()),
            TlsLabels.policy(reporter, tls));
    return table.get(values, this::newSeries);
  }

  /** The first entry of the cluster's {@code filter_metadata.istio.services}, null if none. */
  static @Nullable Struct firstIstioService(ClusterConfig cluster) {
    Struct istio = cluster.metadata().get("istio");
    Value services = istio == null ? null : istio.getFieldsMap().get("services");
    if (services == null
        || !services.hasListValue()
        || services.getListValue().getValuesCount() == 0
        || !services.getListValue().getValues(0).hasStructValue()) {
      return null;
    }
    return services.getListValue().getValues(0).getStructValue();
  }

  private static String text(Struct s, String field, String otherwise) {
    Value v = s.getFieldsMap().get(field);
    return v != null && v.hasStringValue() && !v.getStringValue().isEmpty()
        ? v.getStringValue()
        : otherwise;
  }

  private TcpSeries newSeries(List<String> values) {
    @Nullable String[] out = new String[TcpMetric.values().length];
    for (TcpMetric m : TcpMetric.values()) {
      MetricOverride o = table.overrides.getOrDefault(m, MetricOverride.NONE);
      if (o.drop()) {
        continue;
      }
      StringBuilder sb = new StringBuilder();
      for (int l = 0; l < values.size(); l++) {
        String name = TcpMetric.LABELS.get(l);
        if (o.tagsToRemove().contains(name)) {
          continue;
        }
        if (!sb.isEmpty()) {
          sb.append(',');
        }
        sb.append(name).append("=\"");
        StatsFilter.escape(sb, values.get(l));
        sb.append('"');
      }
      out[m.ordinal()] = sb.toString();
    }
    return new TcpSeries(out);
  }

  /** One connection's counting; on its event loop only. */
  private static final class Handler extends ChannelDuplexHandler {
    private final TcpStatsFilter filter;
    private @Nullable TcpSeries series;
    private long sent;
    private long received;
    private boolean closed;

    Handler(TcpStatsFilter filter) {
      this.filter = filter;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      decided(ctx);
    }

    private void decided(ChannelHandlerContext ctx) {
      PeerInfo peer = filter.peer(ctx.channel());
      if (series == null && peer != null && !closed) {
        TcpSeries s = filter.series(ctx.channel(), peer);
        series = s;
        s.opened.increment();
        flush(s);
      }
    }

    private void flush(TcpSeries s) {
      if (sent > 0) {
        s.sent.add(sent);
        sent = 0;
      }
      if (received > 0) {
        s.received.add(received);
        received = 0;
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == PeerExchange.Event.PEER_DECIDED) {
        decided(ctx);
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      long n = size(msg);
      TcpSeries s = series;
      if (s != null) {
        s.received.add(n);
      } else {
        received += n;
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      long n = size(msg);
      TcpSeries s = series;
      if (s != null) {
        s.sent.add(n);
      } else {
        sent += n;
      }
      ctx.write(msg, promise);
    }

    private static long size(Object msg) {
      return switch (msg) {
        case ByteBuf b -> b.readableBytes();
        case ByteBufHolder h -> h.content().readableBytes();
        default -> 0;
      };
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (!closed) {
        closed = true;
        PeerInfo peer = filter.peer(ctx.channel());
        TcpSeries s = filter.series(ctx.channel(), peer == null ? PeerInfo.NONE : peer);
        if (series == null) {
          s.opened.increment();
        }
        flush(s);
        s.closed.increment();
        series = s;
      }
      ctx.fireChannelInactive();
    }
  }
}
