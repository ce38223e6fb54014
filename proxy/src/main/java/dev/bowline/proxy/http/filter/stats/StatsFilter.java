package dev.bowline.proxy.http.filter.stats;

import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangePlugin;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import dev.bowline.proxy.tls.TlsPeer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * Counts one stream when it ends, into the series of its (peer, destination service) group. One
 * instance serves every stream of a listener: it keeps no per-stream state, and on the steady path
 * (known peer, service and outcome) it takes no lock and allocates nothing.
 */
public final class StatsFilter implements HttpFilter {
  private static final String UNKNOWN = PeerInfo.UNKNOWN;
  private static final String DNS_SUFFIX = ".svc.cluster.local";
  private static final int SOURCE_PRINCIPAL = Labels.NAMES.indexOf("source_principal");
  private static final int DESTINATION_PRINCIPAL = Labels.NAMES.indexOf("destination_principal");

  private final StatsConfig config;

  StatsFilter(StatsConfig config) {
    this.config = config;
  }

  /** This filter's config. */
  public StatsConfig config() {
    return config;
  }

  @Override
  public void onStreamComplete(StreamInfo info) {
    record(info);
  }

  /** Records {@code info} (public for benchmarks). */
  public void record(StreamInfo info) {
    boolean source = config.reporter() == Reporter.SOURCE;
    PeerInfo peer =
        info.get(
            source ? MetadataExchangePlugin.UPSTREAM_PEER : MetadataExchangePlugin.DOWNSTREAM_PEER);
    if (peer == null) {
      peer = PeerInfo.NONE;
    }
    HttpHeaders req = info.requestHeaders();
    String cluster = info.upstreamCluster();
    String host = req.get(HttpHeaderNames.HOST);
    String key = source && cluster != null ? cluster : host == null ? "" : host;
    SeriesTable table = config.table();
    Group g = table.find(peer, key);
    if (g == null) {
      g = table.add(peer, key, new Group(base(peer, cluster, host)));
    }
    String ct = req.get(HttpHeaderNames.CONTENT_TYPE);
    boolean grpc = ct != null && ct.startsWith("application/grpc");
    int code = Math.min(Math.max(info.responseCode(), 0), 999);
    int grpcStatus = grpc ? grpcStatus(info) : -1;
    int flags = info.responseFlags();
    // principals and policy: the connection's TLS peer (downstream inbound, upstream outbound)
    Reporter reporter = config.reporter();
    TlsPeer tls = source ? info.upstreamTlsPeer() : info.downstreamTlsPeer();
    int identity =
        table.identity(
            TlsLabels.sourcePrincipal(reporter, tls),
            TlsLabels.destinationPrincipal(reporter, tls),
            TlsLabels.policy(reporter, tls));
    long seriesKey =
        code
            | ((long) (grpcStatus + 1) << 10)
            | ((grpc ? 1L : 0L) << 16)
            | ((flags & 0xFFFFFFFFL) << 17)
            | ((long) identity << 49);
    Series s = g.find(seriesKey);
    if (s == null) {
      s =
          g.add(
              seriesKey,
              new Series(labels(g.base, grpc, code, grpcStatus, flags, table.identity(identity))));
    }
    s.record(info.durationNanos() / 1e6, info.bytesReceived(), info.bytesSent());
  }

  private static int grpcStatus(StreamInfo info) {
    HttpHeaders t = info.responseTrailers();
    CharSequence v = t == null ? null : t.get("grpc-status");
    if (v == null) {
      HttpHeaders h = info.responseHeaders();
      v = h == null ? null : h.get("grpc-status");
    }
    if (v == null || v.isEmpty() || v.length() > 2) {
      return -1;
    }
    int n = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n <= 16 ? n : -1;
  }

  /** The label values a (peer, service) pair fixes, in Istio's order. */
  private String[] base(PeerInfo peer, @Nullable String cluster, @Nullable String host) {
    boolean source = config.reporter() == Reporter.SOURCE;
    PeerInfo src = source ? config.local() : peer;
    PeerInfo dst = source ? peer : config.local();
    String service = serviceHost(cluster, host, dst.namespace());
    String serviceName = service;
    String serviceNamespace = dst.namespace();
    if (service.endsWith(DNS_SUFFIX)) {
      String[] parts = service.substring(0, service.length() - DNS_SUFFIX.length()).split("\\.");
      if (parts.length == 2) {
        serviceName = parts[0];
        serviceNamespace = parts[1];
      }
    } else if (cluster != null && isIstioCatchAll(cluster)) {
      serviceName = cluster;
    }
    return new String[] {
      config.reporter().label(),
      src.workload(),
      src.canonicalService(),
      src.canonicalRevision(),
      src.namespace(),
      UNKNOWN, // source_principal: per connection, set per series
      src.app(),
      src.version(),
      src.clusterId(),
      dst.workload(),
      dst.namespace(),
      UNKNOWN, // destination_principal: per connection, set per series
      dst.app(),
      dst.version(),
      service,
      dst.canonicalService(),
      dst.canonicalRevision(),
      serviceName,
      serviceNamespace,
      dst.clusterId()
    };
  }

  private static boolean isIstioCatchAll(String cluster) {
    return cluster.equals("PassthroughCluster")
        || cluster.equals("BlackHoleCluster")
        || cluster.equals("InboundPassthroughCluster");
  }

  /**
   * The destination service: the host of an Istio outbound cluster name ({@code
   * outbound|port|subset|host}); else, unless disabled, the Host header without its port, completed
   * to {@code name.namespace.svc.cluster.local} as Kubernetes DNS would resolve a short name in the
   * destination's namespace; else {@code unknown}.
   */
  private String serviceHost(@Nullable String cluster, @Nullable String host, String dstNs) {
    if (cluster != null && cluster.startsWith("outbound|")) {
      int last = cluster.lastIndexOf('|');
      if (last > 0 && last < cluster.length() - 1) {
        return cluster.substring(last + 1);
      }
    }
    if (config.disableHostHeaderFallback() || host == null || host.isEmpty()) {
      return UNKNOWN;
    }
    String h = host;
    int colon = h.lastIndexOf(':');
    if (colon > 0 && h.indexOf(']') < colon) {
      h = h.substring(0, colon);
    }
    long dots = h.chars().filter(c -> c == '.').count();
    if (dots == 0 && !dstNs.equals(UNKNOWN)) {
      return h + "." + dstNs + DNS_SUFFIX;
    }
    if (dots == 1 && !Character.isDigit(h.charAt(h.length() - 1))) {
      return h + DNS_SUFFIX;
    }
    return h;
  }

  private @Nullable String[] labels(
      String[] base,
      boolean grpc,
      int code,
      int grpcStatus,
      int flags,
      SeriesTable.TlsIdentity identity) {
    String[] values = new String[Labels.NAMES.size()];
    System.arraycopy(base, 0, values, 0, base.length);
    values[SOURCE_PRINCIPAL] = identity.sourcePrincipal();
    values[DESTINATION_PRINCIPAL] = identity.destinationPrincipal();
    int i = Labels.FIRST_PER_REQUEST;
    values[i++] = grpc ? "grpc" : "http";
    values[i++] = Integer.toString(code);
    values[i++] = grpcStatus < 0 ? "" : Integer.toString(grpcStatus);
    values[i++] = dev.bowline.proxy.http.filter.ResponseFlags.format(flags);
    values[i] = identity.policy();
    @Nullable String[] out = new String[Metric.values().length];
    for (Metric m : Metric.values()) {
      MetricOverride o = config.overrides().getOrDefault(m, MetricOverride.NONE);
      if (o.drop()) {
        continue;
      }
      StringBuilder sb = new StringBuilder();
      for (int l = 0; l < values.length; l++) {
        String name = Labels.NAMES.get(l);
        if (o.tagsToRemove().contains(name)) {
          continue;
        }
        if (!sb.isEmpty()) {
          sb.append(',');
        }
        sb.append(name).append("=\"");
        escape(sb, values[l]);
        sb.append('"');
      }
      out[m.ordinal()] = sb.toString();
    }
    return out;
  }

  static void escape(StringBuilder sb, String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '"' -> sb.append("\\\"");
        case '\n' -> sb.append("\\n");
        default -> sb.append(c);
      }
    }
  }
}
