package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import dev.bowline.controlplane.model.MtlsMode;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilterChainMatchPredicate;
import io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector;
import io.envoyproxy.envoy.type.v3.Int32Range;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Protocol sniffing as istiod 1.16 generates it for ports whose protocol is not declared (a port
 * name without a protocol prefix and no explicit protocol: {@link
 * dev.bowline.controlplane.registry.Protocol#UNSUPPORTED}). The {@code http_inspector} listener
 * filter reads the first bytes and reports {@code http/1.1}, {@code http/1.0} or {@code h2c} as the
 * connection's application protocol; filter chains matching those go to an HTTP connection manager,
 * the rest to a TCP proxy.
 *
 * <ul>
 *   <li><b>Outbound</b>: the TCP chains of the port, then an HTTP chain matching {@code
 *       application_protocols: [http/1.1, h2c]} and {@code transport_protocol: raw_buffer}; a TCP
 *       chain that matches everything becomes the {@code default_filter_chain} (istiod's
 *       fallthrough rule); listener filters {@code tls_inspector} and {@code http_inspector}.
 *   <li><b>Inbound</b> by the port's mTLS mode (istiod's {@code filterchain_options.go}): mTLS HTTP
 *       is told from mTLS TCP by the ALPN the client sidecar offers ({@code istio-http/1.1}, {@code
 *       istio-h2} vs {@code istio-peer-exchange}, {@code istio}), plaintext HTTP from plaintext TCP
 *       by the sniffed protocol.
 *   <li>{@code listener_filters_timeout} is MeshConfig {@code protocolDetectionTimeout} (Istio's
 *       default {@code 0s}: no timeout) with {@code continue_on_listener_filters_timeout: true}, so
 *       a client that sends too little is treated as TCP when the timeout is set. Server-first
 *       protocols on an undeclared port wait for the client, as in Istio: declare their protocol.
 * </ul>
 */
final class ProtocolSniffing {
  private ProtocolSniffing() {}

  static final String HTTP_INSPECTOR = "envoy.filters.listener.http_inspector";

  /**
   * What the HTTP inspector reports for plaintext HTTP (istiod without HTTP/1.0 support, its
   * default: an HTTP/1.0 request goes through as TCP).
   */
  static final List<String> HTTP_ALPNS = List.of("http/1.1", "h2c");

  /** What a client sidecar offers on mTLS for HTTP (Istio's {@code istio.alpn} filter). */
  static final List<String> MTLS_HTTP_ALPNS =
      List.of("istio-http/1.0", "istio-http/1.1", "istio-h2");

  /** What a client sidecar offers on mTLS for TCP. */
  static final List<String> MTLS_TCP_ALPNS = Security.MTLS_ALPN;

  static final String RAW_BUFFER = "raw_buffer";
  static final String TLS = "tls";

  static ListenerFilter httpInspector() {
    return ListenerFilter.newBuilder()
        .setName(HTTP_INSPECTOR)
        .setTypedConfig(Any.pack(HttpInspector.getDefaultInstance()))
        .build();
  }

  /**
   * The HTTP inspector of a listener that also serves ports with a declared protocol ({@code
   * virtualInbound}): disabled unless the destination port is one of {@code ports}, so server-first
   * protocols on the other ports are not held up by it.
   */
  static ListenerFilter httpInspector(Collection<Integer> ports) {
    List<ListenerFilterChainMatchPredicate> rules = new ArrayList<>();
    for (int p : ports) {
      rules.add(
          ListenerFilterChainMatchPredicate.newBuilder()
              .setDestinationPortRange(Int32Range.newBuilder().setStart(p).setEnd(p + 1))
              .build());
    }
    ListenerFilterChainMatchPredicate anyOf =
        rules.size() == 1
            ? rules.getFirst()
            : ListenerFilterChainMatchPredicate.newBuilder()
                .setOrMatch(
                    ListenerFilterChainMatchPredicate.MatchSet.newBuilder().addAllRules(rules))
                .build();
    return httpInspector().toBuilder()
        .setFilterDisabled(ListenerFilterChainMatchPredicate.newBuilder().setNotMatch(anyOf))
        .build();
  }

  /** istiod's listener filter timeout on listeners that sniff: the mesh's, continuing after it. */
  static void detectionTimeout(Listener.Builder l, PushContext push) {
    java.time.Duration t = push.mesh().protocolDetectionTimeout();
    l.setListenerFiltersTimeout(ClusterGenerator.proto(t == null ? java.time.Duration.ZERO : t))
        .setContinueOnListenerFiltersTimeout(true);
  }

  /** The HTTP chain of a sniffed outbound port: it takes what the inspector found to be HTTP. */
  static FilterChain outboundHttp(FilterChain http) {
    return http.toBuilder()
        .setFilterChainMatch(
            http.getFilterChainMatch().toBuilder()
                .clearApplicationProtocols()
                .addAllApplicationProtocols(HTTP_ALPNS)
                .setTransportProtocol(RAW_BUFFER))
        .build();
  }

  /**
   * A sniffing outbound listener: {@code tcp} chains and the HTTP chain, the TCP chain matching
   * everything as default chain, both inspectors and the detection timeout.
   */
  static void outbound(
      Listener.Builder l, FilterChain http, List<FilterChain> tcp, PushContext push) {
    for (FilterChain c : tcp) {
      if (c.hasFilterChainMatch()
          && !c.getFilterChainMatch().equals(FilterChainMatch.getDefaultInstance())) {
        l.addFilterChains(c);
      } else {
        l.setDefaultFilterChain(c);
      }
    }
    l.addFilterChains(outboundHttp(http));
    l.addListenerFilters(Security.tlsInspector()).addListenerFilters(httpInspector());
    detectionTimeout(l, push);
  }

  /**
   * The inbound chains of a sniffed port by its mTLS mode, from the port's plaintext HTTP and TCP
   * chains (same name and destination-port match) and the server TLS sockets for each.
   */
  static List<FilterChain> inbound(
      MtlsMode mode,
      FilterChain http,
      FilterChain tcp,
      TransportSocket httpTls,
      TransportSocket tcpTls) {
    List<FilterChain> out = new ArrayList<>();
    if (mode != MtlsMode.DISABLE) {
      // HTTP from a client sidecar over mTLS
      out.add(with(http, TLS, MTLS_HTTP_ALPNS, httpTls));
    }
    if (mode != MtlsMode.STRICT) {
      // plaintext HTTP
      out.add(with(http, RAW_BUFFER, HTTP_ALPNS, null));
    }
    switch (mode) {
      case STRICT -> out.add(with(tcp, TLS, List.of(), tcpTls));
      case DISABLE -> out.add(with(tcp, RAW_BUFFER, List.of(), null));
      default -> {
        // TCP from a client sidecar over mTLS; plaintext TCP; TLS from a client without a sidecar,
        // passed through as it is
        out.add(with(tcp, TLS, MTLS_TCP_ALPNS, tcpTls));
        out.add(with(tcp, RAW_BUFFER, List.of(), null));
        out.add(with(tcp, TLS, List.of(), null));
      }
    }
    return out;
  }

  private static FilterChain with(
      FilterChain base,
      String transport,
      List<String> alpns,
      @org.jspecify.annotations.Nullable TransportSocket socket) {
    FilterChain.Builder b =
        base.toBuilder()
            .setFilterChainMatch(
                base.getFilterChainMatch().toBuilder()
                    .setTransportProtocol(transport)
                    .clearApplicationProtocols()
                    .addAllApplicationProtocols(alpns));
    if (socket != null) {
      b.setTransportSocket(socket);
    } else {
      b.clearTransportSocket();
    }
    return b.build();
  }

  /** Whether a listener with {@code chains} needs the TLS / HTTP inspector (istiod's rule). */
  static List<ListenerFilter> inspectorsFor(List<FilterChain> chains) {
    boolean tls = false;
    boolean http = false;
    for (FilterChain c : chains) {
      tls |= TLS.equals(c.getFilterChainMatch().getTransportProtocol());
      for (String p : c.getFilterChainMatch().getApplicationProtocolsList()) {
        http |= HTTP_ALPNS.contains(p);
      }
    }
    List<ListenerFilter> out = new ArrayList<>();
    if (tls) {
      out.add(Security.tlsInspector());
    }
    if (http) {
      out.add(httpInspector());
    }
    return out;
  }
}
