package dev.bowline.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.bootstrap.SupportedTypes;
import dev.bowline.proxy.config.ClusterChoice;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.RouteAction;
import dev.bowline.proxy.http.filter.FilterRegistry;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import org.junit.jupiter.api.Test;

/** Envoy JSON in, runtime records or exact errors out. */
class ParsersTest {
  static <B extends Message.Builder> B json(String json, B b) throws Exception {
    JsonFormat.parser().usingTypeRegistry(SupportedTypes.registry()).merge(json, b);
    return b;
  }

  static final String HCM =
      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
  static final String ROUTER =
      "{\"name\":\"router\",\"typed_config\":{\"@type\":\"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\"}}";

  static String listener(String filters) {
    return "{\"name\":\"l1\",\"address\":{\"socket_address\":{\"address\":\"0.0.0.0\",\"port_value\":8080}},"
        + "\"filter_chains\":[{\"filters\":[{\"name\":\"hcm\",\"typed_config\":{\"@type\":\""
        + HCM
        + "\","
        + "\"stat_prefix\":\"p\",\"rds\":{\"route_config_name\":\"8080\",\"config_source\":{\"ads\":{}}},"
        + "\"http_filters\":["
        + filters
        + "]}}]}]}";
  }

  private final ListenerParser listeners = new ListenerParser(FilterRegistry.builtIn());

  /** The cluster of Envoy JSON {@code json}. */
  static Cluster cluster(String json) {
    try {
      return json(json, Cluster.newBuilder()).build();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void listenerWithRdsAndRouter() throws Exception {
    var l =
        listeners
            .unpackAndParse(Any.pack(json(listener(ROUTER), Listener.newBuilder()).build()))
            .value();
    var hcm = (HttpConnectionManagerConfig) l.filterChains().getFirst().filter();
    assertThat(hcm.routes()).isEqualTo(new HttpConnectionManagerConfig.RdsRoutes("8080"));
    assertThat(hcm.httpFilters()).hasSize(1);
  }

  @Test
  void originalDstListenerFilterAndUseOriginalDstAreAcceptedAndHonoured() throws Exception {
    String filter =
        "\"listener_filters\":[{\"name\":\"envoy.filters.listener.original_dst\","
            + "\"typed_config\":{\"@type\":\"type.googleapis.com/"
            + "envoy.extensions.filters.listener.original_dst.v3.OriginalDst\"}}],";
    var inbound =
        json(
                listener(ROUTER).replace("\"filter_chains\"", filter + "\"filter_chains\""),
                Listener.newBuilder())
            .build();
    var in = listeners.parse(inbound);
    assertThat(in.originalDst()).isTrue();
    assertThat(in.useOriginalDst()).isFalse();
    // use_original_dst alone adds the filter, as Envoy's buildOriginalDstListenerFilter
    var outbound =
        json(
                listener(ROUTER)
                    .replace(
                        "\"filter_chains\"",
                        "\"use_original_dst\":true,\"bind_to_port\":false,\"filter_chains\""),
                Listener.newBuilder())
            .build();
    var out = listeners.parse(outbound);
    assertThat(out.originalDst()).isTrue();
    assertThat(out.useOriginalDst()).isTrue();
    assertThat(out.bindToPort()).isFalse();
    assertThat(FieldAudit.ignored(outbound, Listener.getDescriptor(), listeners.honouredFields()))
        .isEmpty();
    assertThat(FieldAudit.ignored(inbound, Listener.getDescriptor(), listeners.honouredFields()))
        .isEmpty();
  }

  @Test
  void invalidMessagingSwitchesResolveWithEnvoysPrecedence() throws Exception {
    String base = listener(ROUTER).replace("\"stat_prefix\":\"p\",", "\"stat_prefix\":\"p\",%s");
    java.util.function.Function<String, dev.bowline.proxy.config.CodecOptions> parse =
        extra -> {
          try {
            var l =
                listeners
                    .unpackAndParse(
                        Any.pack(json(base.formatted(extra), Listener.newBuilder()).build()))
                    .value();
            return ((HttpConnectionManagerConfig) l.filterChains().getFirst().filter())
                .codecOptions();
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };
    assertThat(parse.apply("")).isEqualTo(dev.bowline.proxy.config.CodecOptions.DEFAULTS);
    var hcm = parse.apply("\"stream_error_on_invalid_http_message\":true,");
    assertThat(hcm.http1StreamErrorOnInvalid()).isTrue();
    assertThat(hcm.http2StreamErrorOnInvalid()).isTrue();
    var overridden =
        parse.apply(
            "\"stream_error_on_invalid_http_message\":true,"
                + "\"http_protocol_options\":{\"override_stream_error_on_invalid_http_message\":false},"
                + "\"http2_protocol_options\":{\"override_stream_error_on_invalid_http_message\":false,"
                + "\"stream_error_on_invalid_http_messaging\":true},");
    assertThat(overridden.http1StreamErrorOnInvalid()).isFalse();
    assertThat(overridden.http2StreamErrorOnInvalid()).isFalse();
    // the HCM switch, when set, hides HTTP/2's deprecated one
    var hcmFalse =
        parse.apply(
            "\"stream_error_on_invalid_http_message\":false,"
                + "\"http2_protocol_options\":{\"stream_error_on_invalid_http_messaging\":true},");
    assertThat(hcmFalse.http2StreamErrorOnInvalid()).isFalse();
    var deprecated =
        parse.apply(
            "\"http2_protocol_options\":{\"stream_error_on_invalid_http_messaging\":true},");
    assertThat(deprecated.http2StreamErrorOnInvalid()).isTrue();
    assertThat(deprecated.http1StreamErrorOnInvalid()).isFalse();
  }

  @Test
  void http2MaxConcurrentStreamsIsHonouredWithEnvoysDefaultAndRange() throws Exception {
    var plain =
        listeners
            .unpackAndParse(Any.pack(json(listener(ROUTER), Listener.newBuilder()).build()))
            .value();
    assertThat(
            ((HttpConnectionManagerConfig) plain.filterChains().getFirst().filter())
                .maxConcurrentStreams())
        .isEqualTo(Integer.MAX_VALUE);
    String with =
        listener(ROUTER)
            .replace(
                "\"stat_prefix\":\"p\",",
                "\"stat_prefix\":\"p\",\"http2_protocol_options\":{\"max_concurrent_streams\":%d},");
    var l =
        listeners
            .unpackAndParse(Any.pack(json(with.formatted(7), Listener.newBuilder()).build()))
            .value();
    assertThat(
            ((HttpConnectionManagerConfig) l.filterChains().getFirst().filter())
                .maxConcurrentStreams())
        .isEqualTo(7);
    var zero = Any.pack(json(with.formatted(0), Listener.newBuilder()).build());
    assertThatThrownBy(() -> listeners.unpackAndParse(zero))
        .hasMessage(
            "Listener l1: filter_chains[0].filters[0].typed_config.http2_protocol_options.max_concurrent_streams: must be in [1, 2147483647], got 0");
  }

  @Test
  void http2WindowsAndDelayedCloseHaveEnvoysDefaultsAndRanges() throws Exception {
    var plain =
        ((HttpConnectionManagerConfig)
                listeners
                    .unpackAndParse(Any.pack(json(listener(ROUTER), Listener.newBuilder()).build()))
                    .value()
                    .filterChains()
                    .getFirst()
                    .filter())
            .codecOptions();
    assertThat(plain.initialStreamWindowSize()).isEqualTo(256 * 1024 * 1024);
    assertThat(plain.initialConnectionWindowSize()).isEqualTo(256 * 1024 * 1024);
    assertThat(plain.delayedCloseTimeout()).isEqualTo(java.time.Duration.ofSeconds(1));
    String with =
        listener(ROUTER)
            .replace(
                "\"stat_prefix\":\"p\",",
                "\"stat_prefix\":\"p\",\"delayed_close_timeout\":\"0s\",\"http2_protocol_options\":"
                    + "{\"initial_stream_window_size\":%d,\"initial_connection_window_size\":1048576},");
    var set =
        ((HttpConnectionManagerConfig)
                listeners
                    .unpackAndParse(
                        Any.pack(json(with.formatted(65535), Listener.newBuilder()).build()))
                    .value()
                    .filterChains()
                    .getFirst()
                    .filter())
            .codecOptions();
    assertThat(set.initialStreamWindowSize()).isEqualTo(65535);
    assertThat(set.initialConnectionWindowSize()).isEqualTo(1048576);
    assertThat(set.delayedCloseTimeout()).isZero();
    var tooSmall = Any.pack(json(with.formatted(1000), Listener.newBuilder()).build());
    assertThatThrownBy(() -> listeners.unpackAndParse(tooSmall))
        .hasMessage(
            "Listener l1: filter_chains[0].filters[0].typed_config.http2_protocol_options.initial_stream_window_size: must be in [65535, 2147483647], got 1000");
  }

  @Test
  void unknownRequiredHttpFilterIsRejectedNamingTheField() throws Exception {
    String unknown =
        "{\"name\":\"fault\",\"typed_config\":{\"@type\":\"type.googleapis.com/google.protobuf.Empty\"}},";
    var any = Any.pack(json(listener(unknown + ROUTER), Listener.newBuilder()).build());
    assertThatThrownBy(() -> listeners.unpackAndParse(any))
        .hasMessage(
            "Listener l1: filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: unknown HTTP filter type type.googleapis.com/google.protobuf.Empty (filter fault)");
  }

  @Test
  void unknownOptionalHttpFilterIsSkipped() throws Exception {
    String optional =
        "{\"name\":\"fault\",\"is_optional\":true,\"typed_config\":{\"@type\":\"type.googleapis.com/google.protobuf.Empty\"}},";
    var l =
        listeners
            .unpackAndParse(
                Any.pack(json(listener(optional + ROUTER), Listener.newBuilder()).build()))
            .value();
    assertThat(((HttpConnectionManagerConfig) l.filterChains().getFirst().filter()).httpFilters())
        .hasSize(1);
  }

  @Test
  void routerMustBeLast() throws Exception {
    var any = Any.pack(json(listener(""), Listener.newBuilder()).build());
    assertThatThrownBy(() -> listeners.unpackAndParse(any))
        .hasMessage(
            "Listener l1: filter_chains[0].filters[0].typed_config.http_filters: the router must be the last HTTP filter");
  }

  @Test
  void routeErrorsNameVirtualHostRouteAndField() throws Exception {
    var rc =
        json(
                "{\"name\":\"8080\",\"virtual_hosts\":[{\"name\":\"v\",\"domains\":[\"*\"],\"routes\":["
                    + "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"a\"}},"
                    + "{\"match\":{\"safe_regex\":{\"regex\":\"(\"}},\"route\":{\"cluster\":\"a\"}}]}]}",
                RouteConfiguration.newBuilder())
            .build();
    assertThatThrownBy(() -> new RouteConfigParser().unpackAndParse(Any.pack(rc)))
        .hasMessageStartingWith(
            "RouteConfiguration 8080: virtual_hosts[0].routes[1].match.safe_regex.regex: invalid regex");
  }

  @Test
  void weightedClustersAndDirectResponse() throws Exception {
    var rc =
        json(
                "{\"name\":\"r\",\"virtual_hosts\":[{\"name\":\"v\",\"domains\":[\"*\"],\"routes\":["
                    + "{\"match\":{\"prefix\":\"/w\"},\"route\":{\"weighted_clusters\":{\"clusters\":[{\"name\":\"a\",\"weight\":3},{\"name\":\"b\",\"weight\":1}]},\"timeout\":\"2s\"}},"
                    + "{\"match\":{\"path\":\"/d\"},\"direct_response\":{\"status\":418,\"body\":{\"inline_string\":\"tea\"}}}]}]}",
                RouteConfiguration.newBuilder())
            .build();
    var t = new RouteConfigParser().parse(rc);
    var fwd = (RouteAction.Forward) t.virtualHosts().getFirst().routes().get(0).action();
    assertThat(fwd.clusters())
        .isEqualTo(
            new ClusterChoice.Weighted(
                java.util.List.of(
                    new ClusterChoice.WeightedCluster("a", 3),
                    new ClusterChoice.WeightedCluster("b", 1))));
    assertThat(fwd.timeout()).hasSeconds(2);
    assertThat(t.virtualHosts().getFirst().routes().get(1).action())
        .isEqualTo(new RouteAction.DirectResponse(418, "tea"));
  }

  @Test
  void perConnectionBufferLimitBytesOnListenerAndClusterWithEnvoysDefault() throws Exception {
    String base = listener(ROUTER);
    assertThat(
            listeners.unpackAndParse(Any.pack(json(base, Listener.newBuilder()).build())).value())
        .extracting(l -> l.bufferLimitBytes())
        .isEqualTo(1 << 20);
    String with =
        base.replaceFirst(
            "\\{\"name\":\"l1\",", "{\"name\":\"l1\",\"per_connection_buffer_limit_bytes\":%d,");
    assertThat(
            listeners
                .unpackAndParse(
                    Any.pack(json(with.formatted(32768), Listener.newBuilder()).build()))
                .value()
                .bufferLimitBytes())
        .isEqualTo(32768);
    var huge = Any.pack(json(with.formatted(4294967295L), Listener.newBuilder()).build());
    assertThatThrownBy(() -> listeners.unpackAndParse(huge))
        .hasMessage(
            "Listener l1: per_connection_buffer_limit_bytes: must be at most 2147483647:"
                + " 4294967295");

    String cluster = "{\"name\":\"c\",\"type\":\"STATIC\"%s}";
    assertThat(
            new ClusterParser()
                .parse(json(cluster.formatted(""), Cluster.newBuilder()).build())
                .policy()
                .bufferLimitBytes())
        .isEqualTo(1 << 20);
    assertThat(
            new ClusterParser()
                .parse(
                    json(
                            cluster.formatted(",\"per_connection_buffer_limit_bytes\":65536"),
                            Cluster.newBuilder())
                        .build())
                .policy()
                .bufferLimitBytes())
        .isEqualTo(65536);
    var bad =
        json(
                cluster.formatted(",\"per_connection_buffer_limit_bytes\":3000000000"),
                Cluster.newBuilder())
            .build();
    assertThatThrownBy(() -> new ClusterParser().unpackAndParse(Any.pack(bad)))
        .hasMessage(
            "Cluster c: per_connection_buffer_limit_bytes: must be at most 2147483647:"
                + " 3000000000");
  }

  @Test
  void clusterErrorsNameTheField() throws Exception {
    var c =
        json(
                "{\"name\":\"outbound|80||x\",\"type\":\"EDS\",\"lb_policy\":\"CLUSTER_PROVIDED\"}",
                Cluster.newBuilder())
            .build();
    assertThatThrownBy(() -> new ClusterParser().unpackAndParse(Any.pack(c)))
        .hasMessage("Cluster outbound|80||x: lb_policy: CLUSTER_PROVIDED is not supported");
    var eds =
        new ClusterParser()
            .parse(
                json(
                        "{\"name\":\"c\",\"type\":\"EDS\",\"eds_cluster_config\":{\"service_name\":\"svc\",\"eds_config\":{\"ads\":{}}}}",
                        Cluster.newBuilder())
                    .build());
    assertThat(eds.discovery()).isEqualTo(new ClusterConfig.Eds("svc"));
  }

  @Test
  void originalDstClustersAsIstioSendsThemAreAcceptedOnlyWithClusterProvided() throws Exception {
    var passthrough =
        new ClusterParser()
            .parse(
                json(
                        "{\"name\":\"PassthroughCluster\",\"type\":\"ORIGINAL_DST\","
                            + "\"lb_policy\":\"CLUSTER_PROVIDED\",\"connect_timeout\":\"10s\"}",
                        Cluster.newBuilder())
                    .build());
    assertThat(passthrough.discovery()).isEqualTo(new ClusterConfig.OriginalDst(false));
    var bad =
        json(
                "{\"name\":\"InboundPassthroughCluster\",\"type\":\"ORIGINAL_DST\","
                    + "\"lb_policy\":\"ROUND_ROBIN\"}",
                Cluster.newBuilder())
            .build();
    assertThatThrownBy(() -> new ClusterParser().unpackAndParse(Any.pack(bad)))
        .hasMessage(
            "Cluster InboundPassthroughCluster: lb_policy: ORIGINAL_DST needs CLUSTER_PROVIDED,"
                + " not ROUND_ROBIN");
    var eds =
        json(
                "{\"name\":\"c\",\"type\":\"EDS\",\"lb_policy\":\"CLUSTER_PROVIDED\"}",
                Cluster.newBuilder())
            .build();
    assertThatThrownBy(() -> new ClusterParser().unpackAndParse(Any.pack(eds)))
        .hasMessage("Cluster c: lb_policy: CLUSTER_PROVIDED is not supported");
  }

  @Test
  void endpointErrorsNameTheField() throws Exception {
    var cla =
        json(
                "{\"cluster_name\":\"c\",\"endpoints\":[{\"lb_endpoints\":[{\"endpoint\":{\"address\":{\"socket_address\":{\"address\":\"backend.local\",\"port_value\":80}}}}]}]}",
                ClusterLoadAssignment.newBuilder())
            .build();
    assertThatThrownBy(() -> new EndpointParser().unpackAndParse(Any.pack(cla)))
        .hasMessage(
            "ClusterLoadAssignment c: endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: 'backend.local' is not an IP address");
  }

  @Test
  void tcpProxyIdleTimeoutDefaultsToEnvoysHourAndZeroDisablesIt() throws Exception {
    String json =
        "{\"name\":\"t\",\"address\":{\"socket_address\":{\"address\":\"127.0.0.1\",\"port_value\":9}},"
            + "\"filter_chains\":[{\"filters\":[{\"name\":\"tcp\",\"typed_config\":{\"@type\":"
            + "\"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\","
            + "\"stat_prefix\":\"t\",\"cluster\":\"c\"%s}}]}]}";
    java.util.function.Function<String, java.time.Duration> idle =
        extra -> {
          try {
            return ((dev.bowline.proxy.config.TcpProxyConfig)
                    listeners
                        .parse(json(json.formatted(extra), Listener.newBuilder()).build())
                        .filterChains()
                        .getFirst()
                        .filter())
                .idleTimeout();
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };
    assertThat(idle.apply("")).isEqualTo(java.time.Duration.ofHours(1));
    assertThat(idle.apply(",\"idle_timeout\":\"0s\"")).isZero();
    assertThat(idle.apply(",\"idle_timeout\":\"2.5s\""))
        .isEqualTo(java.time.Duration.ofMillis(2500));
  }

  @Test
  void filterChainMatchPicksByDestinationAndSourceAndSkipsTlsChains() throws Exception {
    String chain =
        "{\"filter_chain_match\":%s,\"filters\":[{\"name\":\"tcp\",\"typed_config\":{\"@type\":"
            + "\"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\",\"stat_prefix\":\"t\",\"cluster\":\"%s\"}}]}";
    String json =
        "{\"name\":\"virtualInbound\",\"address\":{\"socket_address\":{\"address\":\"0.0.0.0\",\"port_value\":15006}},\"filter_chains\":["
            + chain.formatted("{\"transport_protocol\":\"tls\",\"destination_port\":8080}", "tls")
            + ","
            + chain.formatted(
                "{\"application_protocols\":[\"http/1.1\"],\"destination_port\":8080}", "http")
            + ","
            + chain.formatted(
                "{\"destination_port\":8080,\"prefix_ranges\":[{\"address_prefix\":\"10.0.0.0\",\"prefix_len\":8}]}",
                "ten")
            + ","
            + chain.formatted(
                "{\"source_prefix_ranges\":[{\"address_prefix\":\"127.0.0.0\",\"prefix_len\":8}],\"source_ports\":[1234]}",
                "local")
            + "],\"default_filter_chain\":"
            + chain.formatted("{}", "default")
            + "}";
    var l = listeners.parse(json(json, Listener.newBuilder()).build());
    java.util.function.Function<java.util.Optional<dev.bowline.proxy.config.FilterChain>, String>
        cluster =
            c ->
                ((ClusterChoice.Single)
                        ((dev.bowline.proxy.config.TcpProxyConfig) c.orElseThrow().filter())
                            .clusters())
                    .cluster();
    assertThat(cluster.apply(l.select("10.1.2.3", 8080, "192.168.0.1", 5555))).isEqualTo("ten");
    // Envoy narrows by destination port first: the port-8080 chains all need something this
    // plaintext connection lacks (TLS, sniffed ALPN, 10/8), so it gets the default chain, not
    // "local" (which names no port)
    assertThat(cluster.apply(l.select("11.1.2.3", 8080, "127.0.0.9", 1234))).isEqualTo("default");
    assertThat(cluster.apply(l.select("11.1.2.3", 9090, "127.0.0.9", 1234))).isEqualTo("local");
    assertThat(cluster.apply(l.select("11.1.2.3", 9090, "127.0.0.9", 1235))).isEqualTo("default");
    // what the inspectors find picks the TLS and HTTP chains
    assertThat(
            cluster.apply(
                l.select(
                    new dev.bowline.proxy.config.ConnectionInfo(
                        "11.1.2.3", 8080, "127.0.0.9", 1234, "tls", "", java.util.List.of()))))
        .isEqualTo("tls");
    assertThat(
            cluster.apply(
                l.select(
                    new dev.bowline.proxy.config.ConnectionInfo(
                        "11.1.2.3",
                        8080,
                        "127.0.0.9",
                        1234,
                        "raw_buffer",
                        "",
                        java.util.List.of("http/1.1")))))
        .isEqualTo("http");
  }

  @Test
  void upstreamStreamLimitAndRequestsPerConnectionFollowEnvoy() throws Exception {
    var parser = new ClusterParser();
    String typed =
        ",\"typed_extension_protocol_options\":{\""
            + ClusterParser.HTTP_OPTIONS
            + "\":{\"@type\":\"type.googleapis.com/"
            + ClusterParser.HTTP_OPTIONS
            + "\",%s\"explicit_http_config\":{\"http2_protocol_options\":{%s}}}}";
    java.util.function.Function<String, Cluster> cluster =
        extra -> {
          try {
            return json("{\"name\":\"u\",\"type\":\"STATIC\"" + extra + "}", Cluster.newBuilder())
                .build();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    assertThat(parser.parse(cluster.apply("")).policy().http2MaxConcurrentStreams())
        .isEqualTo(Integer.MAX_VALUE);
    assertThat(
            parser
                .parse(cluster.apply(typed.formatted("", "\"max_concurrent_streams\":2")))
                .policy()
                .http2MaxConcurrentStreams())
        .isEqualTo(2);
    var zero = Any.pack(cluster.apply(typed.formatted("", "\"max_concurrent_streams\":0")));
    assertThatThrownBy(() -> parser.unpackAndParse(zero))
        .hasMessageEndingWith(
            "u: typed_extension_protocol_options["
                + ClusterParser.HTTP_OPTIONS
                + "].explicit_http_config.http2_protocol_options.max_concurrent_streams: must be in"
                + " [1, 2147483647], got 0");
    // max_requests_per_connection: HttpProtocolOptions' common options when the cluster has
    // HttpProtocolOptions, else its own (deprecated) common options; then the top-level field
    String top = ",\"max_requests_per_connection\":5";
    String common = ",\"common_http_protocol_options\":{\"max_requests_per_connection\":4}";
    assertThat(parser.parse(cluster.apply(top)).maxRequestsPerConnection()).isEqualTo(5);
    assertThat(parser.parse(cluster.apply(top + common)).maxRequestsPerConnection()).isEqualTo(4);
    assertThat(
            parser
                .parse(cluster.apply(top + common + typed.formatted("", "")))
                .maxRequestsPerConnection())
        .isEqualTo(5);
    assertThat(
            parser
                .parse(
                    cluster.apply(
                        top
                            + common
                            + typed.formatted(
                                "\"common_http_protocol_options\":"
                                    + "{\"max_requests_per_connection\":3},",
                                "")))
                .maxRequestsPerConnection())
        .isEqualTo(3);
    assertThat(
            FieldAudit.ignored(
                cluster.apply(top + common), Cluster.getDescriptor(), parser.honouredFields()))
        .isEmpty();
  }

  @Test
  void fieldsTheProxyDoesNotActOnAreReportedNotDropped() throws Exception {
    var c =
        json(
                "{\"name\":\"c\",\"type\":\"EDS\",\"eds_cluster_config\":{\"eds_config\":{\"ads\":{}}},"
                    + "\"outlier_detection\":{\"consecutive_5xx\":3,\"always_eject_one_host\":true},"
                    + "\"circuit_breakers\":{\"thresholds\":[{\"max_connections\":10,\"retry_budget\":{}}]}}",
                Cluster.newBuilder())
            .build();
    assertThat(new ClusterParser().parse(c).name()).isEqualTo("c");
    assertThat(FieldAudit.ignored(c, Cluster.getDescriptor(), new ClusterParser().honouredFields()))
        .containsExactly(
            "circuit_breakers.thresholds.retry_budget", "outlier_detection.always_eject_one_host");
    // of http2_protocol_options the windows and max_concurrent_streams are acted on, in the
    // cluster's own field and in HttpProtocolOptions alike; the rest is reported
    var h2 =
        json(
                "{\"name\":\"h\",\"type\":\"STATIC\",\"http2_protocol_options\":"
                    + "{\"max_concurrent_streams\":10,\"initial_stream_window_size\":65535,"
                    + "\"hpack_table_size\":100},"
                    + "\"typed_extension_protocol_options\":{\""
                    + ClusterParser.HTTP_OPTIONS
                    + "\":{\"@type\":\"type.googleapis.com/"
                    + ClusterParser.HTTP_OPTIONS
                    + "\",\"common_http_protocol_options\":{\"idle_timeout\":\"5s\"},"
                    + "\"explicit_http_config\":{\"http2_protocol_options\":"
                    + "{\"max_concurrent_streams\":10,\"initial_connection_window_size\":65535,"
                    + "\"hpack_table_size\":100}}}}}",
                Cluster.newBuilder())
            .build();
    var parser = new ClusterParser();
    assertThat(parser.parse(h2).policy().http2MaxConcurrentStreams()).isEqualTo(10);
    assertThat(FieldAudit.ignored(h2, Cluster.getDescriptor(), parser.honouredFields()))
        .containsExactly("http2_protocol_options.hpack_table_size");
    assertThat(parser.nestedIgnored(h2))
        .containsExactly(
            "typed_extension_protocol_options["
                + ClusterParser.HTTP_OPTIONS
                + "].explicit_http_config.http2_protocol_options.hpack_table_size");
    // presence alone (Istio's usual `http2_protocol_options: {}`) is no warning
    var bare =
        h2.toBuilder()
            .setHttp2ProtocolOptions(
                io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.getDefaultInstance())
            .clearTypedExtensionProtocolOptions()
            .build();
    assertThat(FieldAudit.ignored(bare, Cluster.getDescriptor(), parser.honouredFields()))
        .isEmpty();
    var rc =
        json(
                "{\"name\":\"r\",\"virtual_hosts\":[{\"name\":\"v\",\"domains\":[\"*\"],\"routes\":["
                    + "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"a\",\"retry_policy\":{\"num_retries\":2,\"retriable_request_headers\":[{\"name\":\"x\"}]}}}]}]}",
                RouteConfiguration.newBuilder())
            .build();
    assertThat(
            FieldAudit.ignored(rc, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .containsExactly("virtual_hosts.routes.route.retry_policy.retriable_request_headers");
    // read from the response's bytes (the xDS client's path) the audit finds the same fields
    assertThat(
            FieldAudit.ignored(
                rc,
                rc.toByteString(),
                RouteConfiguration.getDescriptor(),
                RouteConfigParser.HONOURED))
        .containsExactly("virtual_hosts.routes.route.retry_policy.retriable_request_headers");
    assertThat(
            FieldAudit.ignored(
                c, c.toByteString(), Cluster.getDescriptor(), parser.honouredFields()))
        .containsExactly(
            "circuit_breakers.thresholds.retry_budget", "outlier_detection.always_eject_one_host");
  }

  @Test
  void perUpstreamPreconnectRatioIsHonouredInEnvoysRange() throws Exception {
    var parser = new ClusterParser();
    java.util.function.Function<String, Cluster> cluster =
        extra -> {
          try {
            return json("{\"name\":\"u\",\"type\":\"STATIC\"" + extra + "}", Cluster.newBuilder())
                .build();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    assertThat(parser.parse(cluster.apply("")).policy().preconnectRatio()).isEqualTo(1.0);
    Cluster ratio =
        cluster.apply(
            ",\"preconnect_policy\":{\"per_upstream_preconnect_ratio\":1.5,"
                + "\"predictive_preconnect_ratio\":2}");
    assertThat(parser.parse(ratio).policy().preconnectRatio()).isEqualTo(1.5);
    // the cross-host prediction is not implemented: reported, not dropped silently
    assertThat(FieldAudit.ignored(ratio, Cluster.getDescriptor(), parser.honouredFields()))
        .containsExactly("preconnect_policy.predictive_preconnect_ratio");
    var four =
        Any.pack(cluster.apply(",\"preconnect_policy\":{\"per_upstream_preconnect_ratio\":4}"));
    assertThatThrownBy(() -> parser.unpackAndParse(four))
        .hasMessageEndingWith(
            "u: preconnect_policy.per_upstream_preconnect_ratio: must be in [1, 3], got 4.0");
  }

  @Test
  void responseHeaderLimitsAreReadFromTheClustersCommonHttpOptionsInEnvoysRanges()
      throws Exception {
    var parser = new ClusterParser();
    String ext =
        ",\"typed_extension_protocol_options\":{\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\":"
            + "{\"@type\":\"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\","
            + "\"explicit_http_config\":{\"http_protocol_options\":{}},"
            + "\"common_http_protocol_options\":";
    java.util.function.Function<String, Cluster> cluster =
        extra -> {
          try {
            return json("{\"name\":\"u\",\"type\":\"STATIC\"" + extra + "}", Cluster.newBuilder())
                .build();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        };
    var unset = parser.parse(cluster.apply("")).policy();
    assertThat(unset.maxResponseHeadersCount()).isEqualTo(100);
    assertThat(unset.http1ResponseHeadBytes()).isEqualTo(80 * 1024);
    assertThat(unset.http2ResponseHeadBytes()).isEqualTo(60 * 1024);
    Cluster set =
        cluster.apply(ext + "{\"max_headers_count\":20,\"max_response_headers_kb\":16}}}");
    var policy = parser.parse(set).policy();
    assertThat(policy.maxResponseHeadersCount()).isEqualTo(20);
    assertThat(policy.http1ResponseHeadBytes()).isEqualTo(16 * 1024);
    assertThat(policy.http2ResponseHeadBytes()).isEqualTo(16 * 1024);
    assertThat(FieldAudit.ignored(set, Cluster.getDescriptor(), parser.honouredFields())).isEmpty();
    assertThat(parser.nestedIgnored(set)).isEmpty();
    // the cluster's own (deprecated) common options, when it has no HttpProtocolOptions
    var legacy =
        parser
            .parse(cluster.apply(",\"common_http_protocol_options\":{\"max_headers_count\":7}"))
            .policy();
    assertThat(legacy.maxResponseHeadersCount()).isEqualTo(7);
    String field =
        "u: typed_extension_protocol_options[envoy.extensions.upstreams.http.v3.HttpProtocolOptions]"
            + ".common_http_protocol_options.";
    var zeroCount = Any.pack(cluster.apply(ext + "{\"max_headers_count\":0}}}"));
    assertThatThrownBy(() -> parser.unpackAndParse(zeroCount))
        .hasMessageEndingWith(field + "max_headers_count: must be at least 1, got 0");
    var zeroKb = Any.pack(cluster.apply(ext + "{\"max_response_headers_kb\":0}}}"));
    assertThatThrownBy(() -> parser.unpackAndParse(zeroKb))
        .hasMessageEndingWith(field + "max_response_headers_kb: must be in [1, 8192], got 0");
    var hugeKb = Any.pack(cluster.apply(ext + "{\"max_response_headers_kb\":8193}}}"));
    assertThatThrownBy(() -> parser.unpackAndParse(hugeKb))
        .hasMessageEndingWith(field + "max_response_headers_kb: must be in [1, 8192], got 8193");
  }

  @Test
  void upstreamBindConfigIsReadAsEnvoyDoesAndItsErrorsNameTheField() throws Exception {
    java.util.function.Function<String, Cluster> cluster =
        bind ->
            cluster(
                "{\"name\":\"b\",\"type\":\"STATIC\",\"metadata\":{\"filter_metadata\":"
                    + "{\"istio\":{\"name\":\"s\"}}}"
                    + (bind.isEmpty() ? "" : ",\"upstream_bind_config\":" + bind)
                    + "}");
    var parser = new ClusterParser();
    // Istio's inbound passthrough cluster: source 127.0.0.6; metadata is read too (no warning)
    Cluster istio =
        cluster.apply("{\"source_address\":{\"address\":\"127.0.0.6\",\"port_value\":0}}");
    var bind = parser.parse(istio).bind();
    assertThat(bind.source()).isEqualTo(new java.net.InetSocketAddress("127.0.0.6", 0));
    assertThat(bind.extra()).isNull();
    assertThat(bind.freebind()).isFalse();
    assertThat(FieldAudit.ignored(istio, Cluster.getDescriptor(), parser.honouredFields()))
        .isEmpty();
    assertThat(parser.parse(cluster.apply("")).bind())
        .isEqualTo(dev.bowline.proxy.config.UpstreamBind.NONE);
    // one address per IP family: the peer's family picks; socket_options are reported
    Cluster both =
        cluster.apply(
            "{\"source_address\":{\"address\":\"::1\"},\"freebind\":true,"
                + "\"extra_source_addresses\":[{\"address\":{\"address\":\"127.0.0.7\"}}],"
                + "\"socket_options\":[{\"level\":1,\"name\":2,\"int_value\":1}]}");
    var two = parser.parse(both).bind();
    assertThat(two.freebind()).isTrue();
    assertThat(two.localFor(java.net.InetAddress.ofLiteral("10.0.0.1")))
        .isEqualTo(new java.net.InetSocketAddress("127.0.0.7", 0));
    assertThat(two.localFor(java.net.InetAddress.ofLiteral("fd00::1")))
        .isEqualTo(new java.net.InetSocketAddress("::1", 0));
    assertThat(FieldAudit.ignored(both, Cluster.getDescriptor(), parser.honouredFields()))
        .containsExactly("upstream_bind_config.socket_options");
    // the bootstrap's bind config for clusters without one; its freebind unless the cluster's is
    // set
    var fallback =
        new dev.bowline.proxy.config.UpstreamBind(
            new java.net.InetSocketAddress("127.0.0.8", 0), null, true);
    var withDefault = new ClusterParser(FilterRegistry.builtIn(), fallback);
    assertThat(withDefault.parse(cluster.apply("")).bind()).isEqualTo(fallback);
    assertThat(withDefault.parse(istio).bind())
        .isEqualTo(
            new dev.bowline.proxy.config.UpstreamBind(
                new java.net.InetSocketAddress("127.0.0.6", 0), null, true));
    assertThat(
            withDefault
                .parse(
                    cluster.apply(
                        "{\"source_address\":{\"address\":\"127.0.0.6\"},\"freebind\":false}"))
                .bind()
                .freebind())
        .isFalse();
    java.util.Map<String, String> errors =
        java.util.Map.of(
            "{\"source_address\":{\"address\":\"localhost\"}}",
            "upstream_bind_config.source_address.address: 'localhost' is not an IP address",
            "{\"source_address\":{\"address\":\"127.0.0.6\",\"protocol\":\"UDP\"}}",
            "upstream_bind_config.source_address.protocol: only TCP is supported",
            "{\"source_address\":{\"address\":\"127.0.0.6\"},"
                + "\"extra_source_addresses\":[{\"address\":{\"address\":\"127.0.0.7\"}}]}",
            "upstream_bind_config.extra_source_addresses[0].address: must be of the other IP family"
                + " than source_address (IPv4 and IPv6, one each)",
            "{\"extra_source_addresses\":[{\"address\":{\"address\":\"127.0.0.7\"}}]}",
            "upstream_bind_config.source_address: is required when extra_source_addresses is set",
            "{\"source_address\":{\"address\":\"::1\"},\"extra_source_addresses\":["
                + "{\"address\":{\"address\":\"127.0.0.7\"}},"
                + "{\"address\":{\"address\":\"127.0.0.8\"}}]}",
            "upstream_bind_config.extra_source_addresses: at most one extra source address is"
                + " supported",
            "{\"source_address\":{\"address\":\"::1\"},"
                + "\"additional_source_addresses\":[{\"address\":\"127.0.0.7\"}]}",
            "upstream_bind_config.additional_source_addresses: is deprecated and not supported: use"
                + " extra_source_addresses");
    for (var e : errors.entrySet()) {
      var any = Any.pack(cluster.apply(e.getKey()));
      assertThatThrownBy(() -> parser.unpackAndParse(any))
          .as(e.getKey())
          .hasMessageEndingWith("b: " + e.getValue());
    }
  }

  @Test
  void dnsLookupFamilyFailureRefreshRateAndRespectDnsTtlAreRead() throws Exception {
    java.util.function.Function<String, Cluster> cluster =
        extra ->
            cluster(
                "{\"name\":\"d\",\"type\":\"STRICT_DNS\",\"dns_refresh_rate\":\"5s\","
                    + "\"load_assignment\":{\"endpoints\":[{\"lb_endpoints\":[{\"endpoint\":"
                    + "{\"address\":{\"socket_address\":{\"address\":\"example.com\","
                    + "\"port_value\":80}}}}]}]}"
                    + extra
                    + "}");
    var parser = new ClusterParser();
    var unset = (ClusterConfig.Dns) parser.parse(cluster.apply("")).discovery();
    assertThat(unset.family()).isEqualTo(ClusterConfig.LookupFamily.AUTO);
    assertThat(unset.nextLookupMillis(3, 0.99)).isEqualTo(5000); // failures retried at the rate
    Cluster set =
        cluster.apply(
            ",\"dns_lookup_family\":\"V4_ONLY\",\"respect_dns_ttl\":true,"
                + "\"dns_failure_refresh_rate\":{\"base_interval\":\"1s\"}");
    var dns = (ClusterConfig.Dns) parser.parse(set).discovery();
    assertThat(dns.family()).isEqualTo(ClusterConfig.LookupFamily.V4_ONLY);
    assertThat(dns.failureBase()).isEqualTo(java.time.Duration.ofSeconds(1));
    assertThat(dns.failureMax()).isEqualTo(java.time.Duration.ofSeconds(10)); // Envoy: 10x base
    // jittered exponential backoff below min(base * 2^(n-1), max); the refresh rate after a success
    assertThat(dns.nextLookupMillis(0, 0.5)).isEqualTo(5000);
    assertThat(dns.nextLookupMillis(1, 0.5)).isEqualTo(500);
    assertThat(dns.nextLookupMillis(3, 0.5)).isEqualTo(2000);
    assertThat(dns.nextLookupMillis(9, 0.5)).isEqualTo(5000);
    assertThat(dns.nextLookupMillis(64, 0.5)).isEqualTo(5000);
    // netty-resolver-dns reports TTLs: respect_dns_ttl is honoured (Envoy's rules: a TTL of 0
    // keeps the refresh rate; a TTL below the refresh rate is taken as it is)
    assertThat(FieldAudit.ignored(set, Cluster.getDescriptor(), parser.honouredFields())).isEmpty();
    assertThat(dns.respectTtl()).isTrue();
    assertThat(unset.respectTtl()).isFalse();
    assertThat(dns.nextLookupAfterSuccessMillis(0)).isEqualTo(5000);
    assertThat(dns.nextLookupAfterSuccessMillis(1)).isEqualTo(1000);
    assertThat(dns.nextLookupAfterSuccessMillis(30)).isEqualTo(30_000);
    assertThat(unset.nextLookupAfterSuccessMillis(1)).isEqualTo(5000);
    var v4 = java.net.InetAddress.ofLiteral("192.0.2.1");
    var v6 = java.net.InetAddress.ofLiteral("2001:db8::1");
    var both = new java.net.InetAddress[] {v4, v6};
    assertThat(ClusterConfig.LookupFamily.AUTO.pick(both)).containsExactly(v6);
    assertThat(ClusterConfig.LookupFamily.V4_PREFERRED.pick(both)).containsExactly(v4);
    assertThat(ClusterConfig.LookupFamily.V4_ONLY.pick(both)).containsExactly(v4);
    assertThat(ClusterConfig.LookupFamily.V6_ONLY.pick(new java.net.InetAddress[] {v4})).isEmpty();
    assertThat(ClusterConfig.LookupFamily.ALL.pick(both)).containsExactly(v4, v6);
    var tooShort =
        Any.pack(cluster.apply(",\"dns_failure_refresh_rate\":{\"base_interval\":\"0.001s\"}"));
    assertThatThrownBy(() -> parser.unpackAndParse(tooShort))
        .hasMessageEndingWith(
            "d: dns_failure_refresh_rate.base_interval: must be greater than 1ms");
    var maxBelow =
        Any.pack(
            cluster.apply(
                ",\"dns_failure_refresh_rate\":{\"base_interval\":\"2s\",\"max_interval\":\"1s\"}"));
    assertThatThrownBy(() -> parser.unpackAndParse(maxBelow))
        .hasMessageEndingWith(
            "d: dns_failure_refresh_rate.max_interval: must not be less than base_interval");
  }

  @Test
  void dnsResolverConfigsAreReadAndBadOnesRefusedNamingTheField() throws Exception {
    java.util.function.Function<String, Cluster> cluster =
        extra ->
            cluster(
                "{\"name\":\"d\",\"type\":\"STRICT_DNS\","
                    + "\"load_assignment\":{\"endpoints\":[{\"lb_endpoints\":[{\"endpoint\":"
                    + "{\"address\":{\"socket_address\":{\"address\":\"example.com\","
                    + "\"port_value\":80}}}}]}]}"
                    + extra
                    + "}");
    java.util.function.Function<String, String> typed =
        body ->
            ",\"typed_dns_resolver_config\":{\"name\":\"r\",\"typed_config\":{\"@type\":"
                + "\"type.googleapis.com/envoy.extensions.network.dns_resolver."
                + body
                + "}}";
    var parser = new ClusterParser();
    assertThat(((ClusterConfig.Dns) parser.parse(cluster.apply("")).discovery()).resolver())
        .isNull(); // the bootstrap's
    Cluster cares =
        cluster.apply(
            typed.apply(
                "cares.v3.CaresDnsResolverConfig\",\"resolvers\":[{\"socket_address\":"
                    + "{\"address\":\"192.0.2.53\",\"port_value\":5353}},{\"socket_address\":"
                    + "{\"address\":\"2001:db8::53\"}}],\"use_resolvers_as_fallback\":true,"
                    + "\"dns_resolver_options\":{\"use_tcp_for_dns_lookups\":true,"
                    + "\"no_default_search_domain\":true},\"udp_max_queries\":10"));
    var r = ((ClusterConfig.Dns) parser.parse(cares).discovery()).resolver();
    assertThat(r)
        .isEqualTo(
            new ClusterConfig.DnsResolver(
                java.util.List.of(
                    new java.net.InetSocketAddress(
                        java.net.InetAddress.ofLiteral("192.0.2.53"), 5353),
                    new java.net.InetSocketAddress(
                        java.net.InetAddress.ofLiteral("2001:db8::53"), 53)),
                true,
                true,
                true));
    // TCP-only lookups and c-ares' tuning stay reported (Netty asks over TCP only after truncation
    // or, with the option, a timeout)
    assertThat(FieldAudit.ignored(cares, Cluster.getDescriptor(), parser.honouredFields()))
        .isEmpty();
    assertThat(parser.nestedIgnored(cares))
        .containsExactly(
            "typed_dns_resolver_config.typed_config.dns_resolver_options.use_tcp_for_dns_lookups",
            "typed_dns_resolver_config.typed_config.udp_max_queries");
    var legacy =
        (ClusterConfig.Dns)
            parser
                .parse(
                    cluster.apply(
                        ",\"dns_resolvers\":[{\"socket_address\":{\"address\":\"192.0.2.1\","
                            + "\"port_value\":53}}]"))
                .discovery();
    assertThat(legacy.resolver().servers())
        .containsExactly(
            new java.net.InetSocketAddress(java.net.InetAddress.ofLiteral("192.0.2.1"), 53));
    var errors =
        java.util.Map.of(
            typed.apply("apple.v3.AppleDnsResolverConfig\""),
            "typed_dns_resolver_config.typed_config: unsupported DNS resolver"
                + " envoy.extensions.network.dns_resolver.apple.v3.AppleDnsResolverConfig (only"
                + " envoy.network.dns_resolver.cares is)",
            typed.apply("getaddrinfo.v3.GetAddrInfoDnsResolverConfig\""),
            "typed_dns_resolver_config.typed_config: unsupported DNS resolver"
                + " envoy.extensions.network.dns_resolver.getaddrinfo.v3"
                + ".GetAddrInfoDnsResolverConfig (only envoy.network.dns_resolver.cares is)",
            typed.apply(
                "cares.v3.CaresDnsResolverConfig\",\"resolvers\":[{\"socket_address\":"
                    + "{\"address\":\"dns.example\",\"port_value\":53}}]"),
            "typed_dns_resolver_config.typed_config.resolvers[0].socket_address.address:"
                + " 'dns.example' is not an IP address",
            ",\"dns_resolvers\":[{\"pipe\":{\"path\":\"/tmp/dns\"}}]",
            "dns_resolvers[0]: must be a socket_address");
    for (var e : errors.entrySet()) {
      var any = Any.pack(cluster.apply(e.getKey()));
      assertThatThrownBy(() -> parser.unpackAndParse(any))
          .as(e.getKey())
          .hasMessageEndingWith("d: " + e.getValue());
    }
  }

  @Test
  void upstreamHttpProtocolOptionsOfIstiosTlsOriginationAreRead() throws Exception {
    java.util.function.Function<String, Cluster> cluster =
        upstream ->
            cluster(
                "{\"name\":\"o\",\"type\":\"STATIC\",\"typed_extension_protocol_options\":{\""
                    + ClusterParser.HTTP_OPTIONS
                    + "\":{\"@type\":\"type.googleapis.com/"
                    + ClusterParser.HTTP_OPTIONS
                    + "\",\"explicit_http_config\":{\"http_protocol_options\":{}},"
                    + "\"upstream_http_protocol_options\":"
                    + upstream
                    + "}}}");
    var parser = new ClusterParser();
    Cluster istio =
        cluster.apply(
            "{\"auto_sni\":true,\"auto_san_validation\":true,"
                + "\"override_auto_sni_header\":\"X-Sni\"}");
    var auto = parser.parse(istio).autoSni();
    assertThat(auto.sni()).isTrue();
    assertThat(auto.sanValidation()).isTrue();
    assertThat(String.valueOf(auto.overrideHeader())).isEqualTo("x-sni");
    assertThat(parser.nestedIgnored(istio)).isEmpty();
    assertThat(parser.parse(cluster.apply("{}")).autoSni()).isEqualTo(ClusterConfig.AutoSni.NONE);
    assertThat(ClusterConfig.AutoSni.serverName("A.Example:8443")).isEqualTo("a.example");
    assertThat(ClusterConfig.AutoSni.serverName("10.0.0.1:80")).isNull();
    assertThat(ClusterConfig.AutoSni.serverName("[::1]:80")).isNull();
    assertThat(ClusterConfig.AutoSni.serverName("")).isNull();
    var bad = Any.pack(cluster.apply("{\"auto_sni\":true,\"override_auto_sni_header\":\"x sni\"}"));
    assertThatThrownBy(() -> parser.unpackAndParse(bad))
        .hasMessageEndingWith(
            "o: typed_extension_protocol_options["
                + ClusterParser.HTTP_OPTIONS
                + "].upstream_http_protocol_options.override_auto_sni_header: 'x sni' is not a"
                + " valid header name");
  }

  @Test
  void validateClustersFalseAsIstiodSendsItIsHonouredAndTrueIsReported() {
    RouteConfiguration off =
        RouteConfiguration.newBuilder()
            .setName("80")
            .setValidateClusters(com.google.protobuf.BoolValue.of(false))
            .build();
    assertThat(
            FieldAudit.ignored(off, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    assertThat(new RouteConfigParser().nestedIgnored(off)).isEmpty();
    RouteConfiguration on =
        off.toBuilder().setValidateClusters(com.google.protobuf.BoolValue.of(true)).build();
    assertThat(new RouteConfigParser().nestedIgnored(on)).containsExactly("validate_clusters");
  }

  @Test
  void pathNormalizationAsIstiodSendsItIsHonouredAndNotReportedAsIgnored() throws Exception {
    // Istio's sidecars and gateways carry normalize_path (meshConfig.pathNormalization BASE); the
    // proxy acts on all three fields, so the audit must not warn that it ignores them
    String set =
        "\"stat_prefix\":\"p\",\"normalize_path\":true,\"merge_slashes\":true,"
            + "\"path_with_escaped_slashes_action\":\"UNESCAPE_AND_REDIRECT\",%s";
    Listener honoured =
        json(
                listener(ROUTER).replace("\"stat_prefix\":\"p\",", set.formatted("")),
                Listener.newBuilder())
            .build();
    var hcm =
        (HttpConnectionManagerConfig)
            listeners.unpackAndParse(Any.pack(honoured)).value().filterChains().getFirst().filter();
    assertThat(hcm.paths().active()).isTrue();
    assertThat(listeners.nestedIgnored(honoured)).isEmpty();
    // a field the proxy does not act on beside them is still reported, and only it
    Listener other =
        json(
                listener(ROUTER)
                    .replace(
                        "\"stat_prefix\":\"p\",",
                        set.formatted("\"add_proxy_protocol_connection_state\":true,")),
                Listener.newBuilder())
            .build();
    assertThat(listeners.nestedIgnored(other))
        .containsExactly("http_connection_manager.add_proxy_protocol_connection_state");
  }

  @Test
  void virtualClustersAreHonouredWithEnvoysOtherAndNackedWithoutHeadersOrName() throws Exception {
    String table =
        "{\"name\":\"vc\",\"virtual_hosts\":[{\"name\":\"v\",\"domains\":[\"*\"],"
            + "\"virtual_clusters\":[%s],"
            + "\"routes\":[{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"a\"}}]}]}";
    RouteConfiguration rc =
        json(
                table.formatted(
                    "{\"name\":\"gets\",\"headers\":[{\"name\":\":method\","
                        + "\"string_match\":{\"exact\":\"GET\"}}]}"),
                RouteConfiguration.newBuilder())
            .build();
    assertThat(
            FieldAudit.ignored(rc, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    RouteConfigParser parser = new RouteConfigParser();
    var t = (dev.bowline.proxy.config.RouteTable) parser.unpackAndParse(Any.pack(rc)).value();
    var vcs = t.virtualHosts().getFirst().virtualClusters();
    assertThat(vcs)
        .extracting(dev.bowline.proxy.config.VirtualCluster::name)
        .containsExactly("gets", "other");
    assertThat(vcs.get(1).headers()).isEmpty();
    RouteConfiguration noHeaders =
        json(table.formatted("{\"name\":\"bare\"}"), RouteConfiguration.newBuilder()).build();
    assertThatThrownBy(() -> parser.unpackAndParse(Any.pack(noHeaders)))
        .hasMessage(
            "RouteConfiguration vc: virtual_hosts[0].virtual_clusters[0].headers: virtual clusters"
                + " must define 'headers'");
    RouteConfiguration noName =
        json(
                table.formatted("{\"headers\":[{\"name\":\"x\",\"present_match\":true}]}"),
                RouteConfiguration.newBuilder())
            .build();
    assertThatThrownBy(() -> parser.unpackAndParse(Any.pack(noName)))
        .hasMessage(
            "RouteConfiguration vc: virtual_hosts[0].virtual_clusters[0].name: must not be empty");
  }

  @Test
  void routeOptionsEnvoyActsOnAreHonouredAndTheirBadValuesNacked() throws Exception {
    String vh =
        "{\"name\":\"v\",\"domains\":[\"*\"],\"require_tls\":\"EXTERNAL_ONLY\","
            + "\"include_attempt_count_in_response\":true,\"routes\":["
            + "{\"match\":{\"prefix\":\"/h\"},\"route\":{\"cluster\":\"a\","
            + "\"host_rewrite_header\":\"x-host\",\"append_x_forwarded_host\":true,"
            + "\"cluster_not_found_response_code\":\"NOT_FOUND\"}},"
            + "{\"match\":{\"prefix\":\"/r\"},\"route\":{\"cluster\":\"a\","
            + "\"host_rewrite_path_regex\":{\"pattern\":{\"regex\":\"^/r/(.*)$\"},"
            + "\"substitution\":\"\\\\1\"}}},"
            + "{\"match\":{\"prefix\":\"/d\"},\"direct_response\":{\"status\":200,"
            + "\"body\":{\"inline_string\":\"%s\"}}}]}";
    String table =
        "{\"name\":\"opts\",%s\"ignore_port_in_host_matching\":true,"
            + "\"most_specific_header_mutations_wins\":true,\"virtual_hosts\":[%s]}";
    String big = "b".repeat(5000);
    RouteConfiguration rc =
        json(
                table.formatted("\"max_direct_response_body_size_bytes\":5000,", vh.formatted(big)),
                RouteConfiguration.newBuilder())
            .build();
    assertThat(
            FieldAudit.ignored(rc, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    RouteConfigParser parser = new RouteConfigParser();
    var t = (dev.bowline.proxy.config.RouteTable) parser.unpackAndParse(Any.pack(rc)).value();
    assertThat(t.ignorePort()).isTrue();
    assertThat(t.mostSpecificWins()).isTrue();
    var host = t.virtualHosts().getFirst();
    assertThat(host.requireTls())
        .isEqualTo(dev.bowline.proxy.config.VirtualHost.RequireTls.EXTERNAL_ONLY);
    assertThat(host.attemptCountInResponse()).isTrue();
    var h = (RouteAction.Forward) host.routes().get(0).action();
    assertThat(h.policy().host().header()).contains("x-host");
    assertThat(h.policy().host().appendForwardedHost()).isTrue();
    assertThat(h.policy().clusterNotFoundStatus()).isEqualTo(404);
    var r = (RouteAction.Forward) host.routes().get(1).action();
    assertThat(r.policy().host().pathRegex().orElseThrow().apply("/r/reviews"))
        .isEqualTo("reviews");
    assertThat(r.policy().clusterNotFoundStatus()).isEqualTo(503);
    // Envoy's 4 KiB default: the same virtual host's bytes without the table's limit are a NACK
    // (a host kept from the last push is not reused across limits)
    RouteConfiguration unset =
        json(table.formatted("", vh.formatted(big)), RouteConfiguration.newBuilder()).build();
    assertThatThrownBy(() -> parser.unpackAndParse(Any.pack(unset)))
        .hasMessage(
            "RouteConfiguration opts: virtual_hosts[0].routes[2].direct_response.body: response body"
                + " size is 5000 bytes; maximum is 4096 (max_direct_response_body_size_bytes)");
    RouteConfiguration small =
        json(
                table.formatted(
                    "\"max_direct_response_body_size_bytes\":10,", vh.formatted("eleven byte")),
                RouteConfiguration.newBuilder())
            .build();
    assertThatThrownBy(() -> parser.unpackAndParse(Any.pack(small)))
        .hasMessageEndingWith(
            "response body size is 11 bytes; maximum is 10 (max_direct_response_body_size_bytes)");
    RouteConfiguration badHeader =
        json(
                table.formatted("", vh.formatted("x").replace("\"x-host\"", "\"x host\"")),
                RouteConfiguration.newBuilder())
            .build();
    assertThatThrownBy(() -> parser.unpackAndParse(Any.pack(badHeader)))
        .hasMessage(
            "RouteConfiguration opts: virtual_hosts[0].routes[0].route.host_rewrite_header: must"
                + " name a regular header");
    // what the proxy still does not act on is reported, and only it: a route's metadata is
    // exposed (config_dump, %METADATA(ROUTE:...)%), a virtual host's too (%METADATA(VIRTUAL_HOST:
    // ...)%), the table's is not (Envoy has no formatter type for it)
    var istio =
        io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder()
            .putFilterMetadata(
                "istio",
                com.google.protobuf.Struct.newBuilder()
                    .putFields(
                        "config",
                        com.google.protobuf.Value.newBuilder().setStringValue("/apis/x").build())
                    .build())
            .build();
    RouteConfiguration rest =
        rc.toBuilder()
            .addInternalOnlyHeaders("x-internal")
            .setMetadata(istio)
            .setVirtualHosts(
                0,
                rc.getVirtualHosts(0).toBuilder()
                    .setMetadata(istio)
                    .setRoutes(
                        0,
                        rc.getVirtualHosts(0).getRoutes(0).toBuilder()
                            .setRoute(
                                rc.getVirtualHosts(0).getRoutes(0).getRoute().toBuilder()
                                    .setAutoHostRewrite(com.google.protobuf.BoolValue.of(true)))
                            .setMetadata(istio)))
            .build();
    assertThat(
            FieldAudit.ignored(
                rest, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .containsExactly("metadata");
  }

  static final String CUSTOM_HEADER_DETECTION =
      "type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig";
  static final String XFF_DETECTION =
      "type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig";

  /** A listener whose connection manager also sets {@code fields} (JSON members, comma after). */
  Listener withHcmFields(String fields) throws Exception {
    return json(
            listener(ROUTER).replace("\"stat_prefix\":\"p\",", "\"stat_prefix\":\"p\"," + fields),
            Listener.newBuilder())
        .build();
  }

  @Test
  void schemeHeaderTransformationIsHonouredAndABadSchemeNacked() throws Exception {
    Listener over =
        withHcmFields("\"scheme_header_transformation\":{\"scheme_to_overwrite\":\"https\"},");
    var hcm =
        (HttpConnectionManagerConfig)
            listeners.unpackAndParse(Any.pack(over)).value().filterChains().getFirst().filter();
    assertThat(hcm.headers().schemeToOverwrite().toString()).isEqualTo("https");
    assertThat(hcm.headers().schemeMatchUpstream()).isFalse();
    assertThat(listeners.nestedIgnored(over)).isEmpty();
    var match =
        (HttpConnectionManagerConfig)
            listeners
                .unpackAndParse(
                    Any.pack(
                        withHcmFields(
                            "\"scheme_header_transformation\":{\"match_upstream\":true},")))
                .value()
                .filterChains()
                .getFirst()
                .filter();
    assertThat(match.headers().schemeMatchUpstream()).isTrue();
    assertThat((Object) match.headers().schemeToOverwrite()).isNull();
    Listener bad =
        withHcmFields("\"scheme_header_transformation\":{\"scheme_to_overwrite\":\"ftp\"},");
    assertThatThrownBy(() -> listeners.unpackAndParse(Any.pack(bad)))
        .hasMessageContaining(
            "scheme_header_transformation.scheme_to_overwrite: must be http or https: 'ftp'");
  }

  @Test
  void originalIpDetectionExtensionsAreHonouredAndTheirBadValuesNackedNamingTheField()
      throws Exception {
    String two =
        "\"original_ip_detection_extensions\":["
            + "{\"name\":\"h\",\"typed_config\":{\"@type\":\""
            + CUSTOM_HEADER_DETECTION
            + "\",\"header_name\":\"X-Real-IP\",\"allow_extension_to_set_address_as_trusted\":true,"
            + "\"reject_with_status\":{\"code\":\"Forbidden\"}}},"
            + "{\"name\":\"x\",\"typed_config\":{\"@type\":\""
            + XFF_DETECTION
            + "\",\"xff_trusted_cidrs\":{\"cidrs\":[{\"address_prefix\":\"192.0.2.0\",\"prefix_len\":24}]},"
            + "\"skip_xff_append\":false}}],";
    Listener honoured = withHcmFields(two);
    var hcm =
        (HttpConnectionManagerConfig)
            listeners.unpackAndParse(Any.pack(honoured)).value().filterChains().getFirst().filter();
    var d = hcm.clientAddress().detections();
    assertThat(d).hasSize(2);
    var custom = (dev.bowline.proxy.config.OriginalIpDetection.CustomHeader) d.get(0);
    assertThat(custom.header().toString()).isEqualTo("x-real-ip");
    assertThat(custom.trusted()).isTrue();
    assertThat(custom.rejectStatus()).isEqualTo(403);
    var xff = (dev.bowline.proxy.config.OriginalIpDetection.Xff) d.get(1);
    assertThat(xff.skipXffAppend()).isFalse();
    assertThat(xff.trusts(new byte[] {(byte) 192, 0, 2, 9})).isTrue();
    assertThat(listeners.nestedIgnored(honoured)).isEmpty();
    // the x-forwarded-for extension alone: skip_xff_append defaults to true
    var plain =
        (HttpConnectionManagerConfig)
            listeners
                .unpackAndParse(
                    Any.pack(
                        withHcmFields(
                            "\"original_ip_detection_extensions\":[{\"name\":\"x\",\"typed_config\":"
                                + "{\"@type\":\""
                                + XFF_DETECTION
                                + "\",\"xff_num_trusted_hops\":2}}],")))
                .value()
                .filterChains()
                .getFirst()
                .filter();
    var only =
        (dev.bowline.proxy.config.OriginalIpDetection.Xff)
            plain.clientAddress().detections().getFirst();
    assertThat(only.skipXffAppend()).isTrue();
    assertThat(only.hops()).isEqualTo(2);
    String f = "original_ip_detection_extensions";
    // as Envoy's config: never with use_remote_address nor xff_num_trusted_hops
    assertThatThrownBy(
            () ->
                listeners.unpackAndParse(
                    Any.pack(withHcmFields(two + "\"use_remote_address\":true,"))))
        .hasMessageContaining(f + ": original IP detection extensions and use_remote_address");
    assertThatThrownBy(
            () ->
                listeners.unpackAndParse(
                    Any.pack(withHcmFields(two + "\"xff_num_trusted_hops\":1,"))))
        .hasMessageContaining(f + ": original IP detection extensions and xff_num_trusted_hops");
    String[][] bad = {
      {
        "{\"@type\":\"" + XFF_DETECTION + "\",\"xff_num_trusted_hops\":1,\"xff_trusted_cidrs\":{}}",
        f + "[0].typed_config.xff_trusted_cidrs: cannot set both"
      },
      {
        "{\"@type\":\""
            + XFF_DETECTION
            + "\",\"xff_trusted_cidrs\":{\"cidrs\":[{\"address_prefix\":\"nope\"}]}}",
        f + "[0].typed_config.xff_trusted_cidrs.cidrs[0]: not an IP literal"
      },
      {
        "{\"@type\":\"" + CUSTOM_HEADER_DETECTION + "\",\"header_name\":\"x real ip\"}",
        f + "[0].typed_config.header_name: not a header name"
      },
      {
        "{\"@type\":\"" + CUSTOM_HEADER_DETECTION + "\",\"header_name\":\"\"}",
        f + "[0].typed_config.header_name: not a header name"
      },
      {
        "{\"@type\":\""
            + CUSTOM_HEADER_DETECTION
            + "\",\"header_name\":\"x\",\"reject_with_status\":{}}",
        f + "[0].typed_config.reject_with_status.code: not an HTTP status: 0"
      },
      {
        "{\"@type\":\"type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\"}",
        f + "[0].typed_config: unknown original IP detection extension type"
      },
    };
    for (String[] b : bad) {
      Listener l =
          withHcmFields(
              "\"original_ip_detection_extensions\":[{\"name\":\"e\",\"typed_config\":"
                  + b[0]
                  + "}],");
      assertThatThrownBy(() -> listeners.unpackAndParse(Any.pack(l))).hasMessageContaining(b[1]);
    }
  }

  @Test
  void internalRedirectPolicyIsHonouredAndItsBadValuesNacked() throws Exception {
    String table =
        "{\"name\":\"ir\",\"virtual_hosts\":[{\"name\":\"v\",\"domains\":[\"*\"],"
            + "\"routes\":[{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"a\","
            + "\"internal_redirect_policy\":{%s}}}]}]}";
    String full =
        "\"max_internal_redirects\":3,\"redirect_response_codes\":[301,303,418],"
            + "\"allow_cross_scheme_redirect\":true,\"response_headers_to_copy\":[\"X-Copy\"],"
            + "\"predicates\":[{\"name\":\"p\",\"typed_config\":{\"@type\":"
            + "\"type.googleapis.com/envoy.extensions.internal_redirect.previous_routes.v3"
            + ".PreviousRoutesConfig\"}},{\"name\":\"s\",\"typed_config\":{\"@type\":"
            + "\"type.googleapis.com/envoy.extensions.internal_redirect.safe_cross_scheme.v3"
            + ".SafeCrossSchemeConfig\"}},{\"name\":\"l\",\"typed_config\":{\"@type\":"
            + "\"type.googleapis.com/envoy.extensions.internal_redirect.allow_listed_routes.v3"
            + ".AllowListedRoutesConfig\",\"allowed_route_names\":[\"r1\"]}}]";
    RouteConfiguration rc = json(table.formatted(full), RouteConfiguration.newBuilder()).build();
    assertThat(
            FieldAudit.ignored(rc, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    RouteConfigParser routes = new RouteConfigParser();
    var t = (dev.bowline.proxy.config.RouteTable) routes.unpackAndParse(Any.pack(rc)).value();
    var f = (RouteAction.Forward) t.virtualHosts().getFirst().routes().getFirst().action();
    var ir = f.policy().internalRedirect().orElseThrow();
    assertThat(ir.maxRedirects()).isEqualTo(3);
    assertThat(ir.follows(301)).isTrue();
    assertThat(ir.follows(303)).isTrue();
    assertThat(ir.follows(302)).isFalse(); // the list replaces the default
    assertThat(ir.follows(418)).isFalse(); // not a redirect code: ignored, as in Envoy
    assertThat(ir.allowCrossScheme()).isTrue();
    assertThat(ir.responseHeadersToCopy()).containsExactly("x-copy");
    assertThat(ir.previousRoutes()).isTrue();
    assertThat(ir.safeCrossScheme()).isTrue();
    assertThat(ir.allowListed()).containsExactly("r1");
    // the defaults: one redirect, 302 only
    RouteConfiguration bare = json(table.formatted(""), RouteConfiguration.newBuilder()).build();
    var d =
        ((RouteAction.Forward)
                ((dev.bowline.proxy.config.RouteTable)
                        routes.unpackAndParse(Any.pack(bare)).value())
                    .virtualHosts()
                    .getFirst()
                    .routes()
                    .getFirst()
                    .action())
            .policy()
            .internalRedirect()
            .orElseThrow();
    assertThat(d.maxRedirects()).isEqualTo(1);
    assertThat(d.follows(302)).isTrue();
    assertThat(d.follows(301)).isFalse();
    // Envoy's deprecated form: internal_redirect_action HANDLE_INTERNAL_REDIRECT with
    // max_internal_redirects is the policy's defaults with that limit; PASS_THROUGH is none
    var action =
        bare.getVirtualHosts(0).getRoutes(0).getRoute().toBuilder().clearInternalRedirectPolicy();
    RouteConfiguration deprecated =
        bare.toBuilder()
            .setVirtualHosts(
                0,
                bare.getVirtualHosts(0).toBuilder()
                    .setRoutes(
                        0,
                        bare.getVirtualHosts(0).getRoutes(0).toBuilder()
                            .setRoute(
                                action
                                    .clone()
                                    .setInternalRedirectAction(
                                        io.envoyproxy.envoy.config.route.v3.RouteAction
                                            .InternalRedirectAction.HANDLE_INTERNAL_REDIRECT)
                                    .setMaxInternalRedirects(
                                        com.google.protobuf.UInt32Value.of(4)))))
            .build();
    assertThat(
            FieldAudit.ignored(
                deprecated, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    var dep =
        ((RouteAction.Forward)
                ((dev.bowline.proxy.config.RouteTable)
                        routes.unpackAndParse(Any.pack(deprecated)).value())
                    .virtualHosts()
                    .getFirst()
                    .routes()
                    .getFirst()
                    .action())
            .policy()
            .internalRedirect()
            .orElseThrow();
    assertThat(dep.maxRedirects()).isEqualTo(4);
    assertThat(dep.follows(302)).isTrue();
    assertThat(dep.allowCrossScheme()).isFalse();
    RouteConfiguration passThrough =
        bare.toBuilder()
            .setVirtualHosts(
                0,
                bare.getVirtualHosts(0).toBuilder()
                    .setRoutes(
                        0,
                        bare.getVirtualHosts(0).getRoutes(0).toBuilder()
                            .setRoute(
                                action
                                    .clone()
                                    .setMaxInternalRedirects(
                                        com.google.protobuf.UInt32Value.of(4)))))
            .build();
    assertThat(
            ((RouteAction.Forward)
                    ((dev.bowline.proxy.config.RouteTable)
                            routes.unpackAndParse(Any.pack(passThrough)).value())
                        .virtualHosts()
                        .getFirst()
                        .routes()
                        .getFirst()
                        .action())
                .policy()
                .internalRedirect())
        .isEmpty();
    RouteConfiguration restricted =
        json(
                table.formatted("\"response_headers_to_copy\":[\"x-ok\",\"Host\"]"),
                RouteConfiguration.newBuilder())
            .build();
    assertThatThrownBy(() -> routes.unpackAndParse(Any.pack(restricted)))
        .hasMessage(
            "RouteConfiguration ir: virtual_hosts[0].routes[0].route.internal_redirect_policy"
                + ".response_headers_to_copy[1]: cannot copy restricted header 'Host'");
    RouteConfiguration unknown =
        RouteConfiguration.newBuilder(bare)
            .setVirtualHosts(
                0,
                bare.getVirtualHosts(0).toBuilder()
                    .setRoutes(
                        0,
                        bare.getVirtualHosts(0).getRoutes(0).toBuilder()
                            .setRoute(
                                bare.getVirtualHosts(0).getRoutes(0).getRoute().toBuilder()
                                    .setInternalRedirectPolicy(
                                        io.envoyproxy.envoy.config.route.v3.InternalRedirectPolicy
                                            .newBuilder()
                                            .addPredicates(
                                                io.envoyproxy.envoy.config.core.v3
                                                    .TypedExtensionConfig.newBuilder()
                                                    .setName("x")
                                                    .setTypedConfig(
                                                        Any.pack(
                                                            com.google.protobuf.Empty
                                                                .getDefaultInstance())))))))
            .build();
    assertThatThrownBy(() -> routes.unpackAndParse(Any.pack(unknown)))
        .hasMessageContaining(
            "internal_redirect_policy.predicates[0].typed_config: unknown internal redirect"
                + " predicate 'type.googleapis.com/google.protobuf.Empty'");
  }

  @Test
  void virtualHostAndTableMirrorPoliciesAreInheritedAndTheirBadValuesNacked() throws Exception {
    String table =
        "{\"name\":\"m\",\"request_mirror_policies\":[{\"cluster\":\"%s\"}],"
            + "\"virtual_hosts\":[{\"name\":\"v\",\"domains\":[\"v\"],"
            + "\"request_mirror_policies\":[{\"cluster\":\"%s\"}],"
            + "\"routes\":[{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"a\"}}]},"
            + "{\"name\":\"w\",\"domains\":[\"*\"],"
            + "\"routes\":[{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"a\"}}]}]}";
    RouteConfiguration rc =
        json(table.formatted("t", "vh"), RouteConfiguration.newBuilder()).build();
    assertThat(
            FieldAudit.ignored(rc, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    RouteConfigParser routes = new RouteConfigParser();
    var t = (dev.bowline.proxy.config.RouteTable) routes.unpackAndParse(Any.pack(rc)).value();
    var v = (RouteAction.Forward) t.virtualHosts().get(0).routes().getFirst().action();
    var w = (RouteAction.Forward) t.virtualHosts().get(1).routes().getFirst().action();
    assertThat(v.policy().mirrors()).extracting(m -> m.cluster()).containsExactly("vh");
    assertThat(w.policy().mirrors()).extracting(m -> m.cluster()).containsExactly("t");
    // the same host bytes under a table whose policies changed are converted again
    RouteConfiguration other =
        json(table.formatted("t2", "vh"), RouteConfiguration.newBuilder()).build();
    var t2 = (dev.bowline.proxy.config.RouteTable) routes.unpackAndParse(Any.pack(other)).value();
    assertThat(
            ((RouteAction.Forward) t2.virtualHosts().get(1).routes().getFirst().action())
                .policy()
                .mirrors())
        .extracting(m -> m.cluster())
        .containsExactly("t2");
    RouteConfiguration empty =
        json(table.formatted("", "vh"), RouteConfiguration.newBuilder()).build();
    assertThatThrownBy(() -> routes.unpackAndParse(Any.pack(empty)))
        .hasMessage("RouteConfiguration m: request_mirror_policies[0].cluster: must not be empty");
    RouteConfiguration emptyVh =
        json(table.formatted("t", ""), RouteConfiguration.newBuilder()).build();
    assertThatThrownBy(() -> routes.unpackAndParse(Any.pack(emptyVh)))
        .hasMessage(
            "RouteConfiguration m: virtual_hosts[0].request_mirror_policies[0].cluster: must not be"
                + " empty");
  }

  @Test
  void clientAddressFieldsAreHonouredAndTheirBadValuesNacked() throws Exception {
    String set =
        "\"stat_prefix\":\"p\",\"use_remote_address\":true,\"xff_num_trusted_hops\":2,"
            + "\"internal_address_config\":{\"unix_sockets\":true,\"cidr_ranges\":["
            + "{\"address_prefix\":\"%s\",\"prefix_len\":8},"
            + "{\"address_prefix\":\"fd00::\",\"prefix_len\":8}]},";
    Listener honoured =
        json(
                listener(ROUTER).replace("\"stat_prefix\":\"p\",", set.formatted("10.0.0.0")),
                Listener.newBuilder())
            .build();
    var hcm =
        (HttpConnectionManagerConfig)
            listeners.unpackAndParse(Any.pack(honoured)).value().filterChains().getFirst().filter();
    var ca = hcm.clientAddress();
    assertThat(ca.xffNumTrustedHops()).isEqualTo(2);
    assertThat(ca.internalUnixSockets()).isTrue();
    assertThat(ca.isInternal(new byte[] {10, 1, 2, 3})).isTrue();
    assertThat(ca.isInternal(new byte[] {11, 1, 2, 3})).isFalse();
    assertThat(ca.isInternal(java.net.InetAddress.ofLiteral("fd12::1").getAddress())).isTrue();
    assertThat(listeners.nestedIgnored(honoured)).isEmpty();
    // unset: Envoy's current default, no address internal, no trusted hops
    var plain =
        (HttpConnectionManagerConfig)
            listeners
                .unpackAndParse(Any.pack(json(listener(ROUTER), Listener.newBuilder()).build()))
                .value()
                .filterChains()
                .getFirst()
                .filter();
    assertThat(plain.clientAddress())
        .isEqualTo(dev.bowline.proxy.config.ClientAddressConfig.DEFAULTS);
    assertThat(plain.clientAddress().anyInternal()).isFalse();
    Listener bad =
        json(
                listener(ROUTER).replace("\"stat_prefix\":\"p\",", set.formatted("ten.0.0.0")),
                Listener.newBuilder())
            .build();
    assertThatThrownBy(() -> listeners.unpackAndParse(Any.pack(bad)))
        .hasMessageContaining("internal_address_config.cidr_ranges[0]")
        .hasMessageContaining("not an IP literal: ten.0.0.0");
    // internal_only_headers: honoured, lower-cased, a bad name refused naming the field
    RouteConfigParser parser = new RouteConfigParser();
    RouteConfiguration rc =
        RouteConfiguration.newBuilder()
            .setName("io")
            .addInternalOnlyHeaders("X-Secret")
            .addVirtualHosts(
                io.envoyproxy.envoy.config.route.v3.VirtualHost.newBuilder()
                    .setName("v")
                    .addDomains("*"))
            .build();
    assertThat(
            FieldAudit.ignored(rc, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    var t = (dev.bowline.proxy.config.RouteTable) parser.unpackAndParse(Any.pack(rc)).value();
    assertThat(t.internalOnlyHeaders()).containsExactly("x-secret");
    RouteConfiguration badName = rc.toBuilder().addInternalOnlyHeaders("x secret").build();
    assertThatThrownBy(() -> parser.unpackAndParse(Any.pack(badName)))
        .hasMessage(
            "RouteConfiguration io: internal_only_headers[1]: not a header name: 'x secret'");
  }

  @Test
  void connectionHeaderFieldsAreHonouredAndTheirBadValuesNacked() throws Exception {
    String set =
        "\"stat_prefix\":\"p\",\"via\":\"%s\",\"server_header_transformation\":"
            + "\"PASS_THROUGH\",\"strip_matching_host_port\":true,"
            + "\"strip_trailing_host_dot\":true,\"append_x_forwarded_port\":true,";
    Listener honoured =
        json(
                listener(ROUTER).replace("\"stat_prefix\":\"p\",", set.formatted("edge-1")),
                Listener.newBuilder())
            .build();
    var hcm =
        (HttpConnectionManagerConfig)
            listeners.unpackAndParse(Any.pack(honoured)).value().filterChains().getFirst().filter();
    var ch = hcm.headers();
    assertThat(String.valueOf(ch.via())).isEqualTo("edge-1");
    assertThat(ch.server())
        .isEqualTo(dev.bowline.proxy.config.ConnectionHeaders.Server.PASS_THROUGH);
    assertThat(ch.stripPort())
        .isEqualTo(dev.bowline.proxy.config.ConnectionHeaders.StripPort.MATCHING);
    assertThat(ch.normalizeHost("a.example.:8080", 8080)).isEqualTo("a.example");
    assertThat(ch.normalizeHost("a.example:81", 8080)).isEqualTo("a.example:81");
    assertThat(ch.appendXForwardedPort()).isTrue();
    assertThat(listeners.nestedIgnored(honoured)).isEmpty();
    Listener badVia =
        json(
                listener(ROUTER).replace("\"stat_prefix\":\"p\",", set.formatted("a\\nb")),
                Listener.newBuilder())
            .build();
    assertThatThrownBy(() -> listeners.unpackAndParse(Any.pack(badVia)))
        .hasMessageContaining(".via: not a header value");
    Listener both =
        json(
                listener(ROUTER)
                    .replace(
                        "\"stat_prefix\":\"p\",",
                        set.formatted("v") + "\"strip_any_host_port\":true,"),
                Listener.newBuilder())
            .build();
    assertThatThrownBy(() -> listeners.unpackAndParse(Any.pack(both)))
        .hasMessageContaining(
            ".strip_any_host_port: strip_matching_host_port and strip_any_host_port cannot both be"
                + " set");
  }

  /** The listener of {@link #listener} with {@code fields} (JSON members) added to its HCM. */
  private Listener hcmWith(String fields) throws Exception {
    return json(
            listener(ROUTER)
                .replace("\"stat_prefix\":\"p\",", "\"stat_prefix\":\"p\"," + fields + ","),
            Listener.newBuilder())
        .build();
  }

  @Test
  void addUserAgentIsHonouredWithTheNodesClusterAndId() throws Exception {
    var parser =
        new ListenerParser(
            FilterRegistry.builtIn(),
            new dev.bowline.proxy.accesslog.AccessLogWriter(10, 100),
            null,
            new dev.bowline.proxy.tracing.TracingConfig.LocalNode("node-1", "ratings.default", ""));
    Listener set = hcmWith("\"add_user_agent\":true");
    var ch =
        ((HttpConnectionManagerConfig)
                parser.unpackAndParse(Any.pack(set)).value().filterChains().getFirst().filter())
            .headers();
    assertThat(java.util.Objects.requireNonNull(ch.userAgent()).toString())
        .isEqualTo("ratings.default");
    assertThat(java.util.Objects.requireNonNull(ch.serviceNode()).toString()).isEqualTo("node-1");
    assertThat(parser.nestedIgnored(set)).isEmpty();
    var off =
        ((HttpConnectionManagerConfig)
                parser
                    .unpackAndParse(Any.pack(hcmWith("\"add_user_agent\":false")))
                    .value()
                    .filterChains()
                    .getFirst()
                    .filter())
            .headers();
    assertThat((Object) off.userAgent()).isNull();
    assertThat((Object) off.serviceNode()).isNull();
  }

  @Test
  void requestIdExtensionIsHonouredAndAnotherTypeNackedNamingTheField() throws Exception {
    String uuid =
        "\"request_id_extension\":{\"typed_config\":{\"@type\":"
            + "\"type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig\"%s}}";
    Listener set =
        hcmWith(
            uuid.formatted(
                ",\"pack_trace_reason\":false,\"use_request_id_for_trace_sampling\":false"));
    var replies =
        ((HttpConnectionManagerConfig)
                listeners.unpackAndParse(Any.pack(set)).value().filterChains().getFirst().filter())
            .replies();
    assertThat(replies.packTraceReason()).isFalse();
    assertThat(replies.requestIdSampling()).isFalse();
    assertThat(listeners.nestedIgnored(set)).isEmpty();
    // the extension's defaults, with it or without it
    for (String fields : java.util.List.of(uuid.formatted(""), "\"server_name\":\"s\"")) {
      var d =
          ((HttpConnectionManagerConfig)
                  listeners
                      .unpackAndParse(Any.pack(hcmWith(fields)))
                      .value()
                      .filterChains()
                      .getFirst()
                      .filter())
              .replies();
      assertThat(d.packTraceReason()).isTrue();
      assertThat(d.requestIdSampling()).isTrue();
    }
    Listener other =
        hcmWith(
            "\"request_id_extension\":{\"typed_config\":{\"@type\":"
                + "\"type.googleapis.com/google.protobuf.StringValue\",\"value\":\"x\"}}");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> listeners.unpackAndParse(Any.pack(other)))
        .hasMessageContaining(
            ".request_id_extension.typed_config: unknown request ID extension type");
    Listener none = hcmWith("\"request_id_extension\":{}");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> listeners.unpackAndParse(Any.pack(none)))
        .hasMessageContaining(".request_id_extension.typed_config");
  }

  @Test
  void localReplyAndRequestIdOptionsAreHonouredAndTheirBadValuesNackedNamingTheField()
      throws Exception {
    Listener set =
        hcmWith(
            "\"preserve_external_request_id\":true,\"always_set_request_id_in_response\":true,"
                + "\"local_reply_config\":{\"mappers\":[{\"filter\":{\"and_filter\":{\"filters\":["
                + "{\"status_code_filter\":{\"comparison\":{\"op\":\"GE\",\"value\":"
                + "{\"default_value\":500,\"runtime_key\":\"k\"}}}},"
                + "{\"response_flag_filter\":{\"flags\":[\"UF\",\"UH\"]}}]}},"
                + "\"status_code\":502,\"body\":{\"inline_string\":\"down\"},"
                + "\"headers_to_add\":[{\"header\":{\"key\":\"x-m\",\"value\":\"1\"}}],"
                + "\"body_format_override\":{\"json_format\":{\"m\":\"%LOCAL_REPLY_BODY%\"}}},"
                + "{\"filter\":{\"or_filter\":{\"filters\":[{\"not_health_check_filter\":{}},"
                + "{\"header_filter\":{\"header\":{\"name\":\"x-a\",\"present_match\":true}}}]}}}],"
                + "\"body_format\":{\"text_format\":\"%LOCAL_REPLY_BODY% %RESPONSE_CODE%\","
                + "\"content_type\":\"text/x-b\"}}");
    var hcm =
        (HttpConnectionManagerConfig)
            listeners.unpackAndParse(Any.pack(set)).value().filterChains().getFirst().filter();
    var replies = hcm.replies();
    assertThat(replies.preserveExternalRequestId()).isTrue();
    assertThat(replies.alwaysSetRequestIdInResponse()).isTrue();
    var mapper = java.util.Objects.requireNonNull(replies.localReply());
    assertThat(mapper.mappers()).hasSize(2);
    var first = mapper.mappers().getFirst();
    assertThat(first.status()).isEqualTo(502);
    assertThat(first.body()).isEqualTo("down");
    assertThat(java.util.Objects.requireNonNull(first.format()).contentType())
        .isEqualTo("application/json");
    assertThat(first.filter())
        .isInstanceOf(dev.bowline.proxy.http.LocalReplyMapper.And.class)
        .hasToString(
            "And[filters=[StatusCode[op=GE, value=500], ResponseFlags[mask="
                + (dev.bowline.proxy.http.filter.ResponseFlag.UF.bit()
                    | dev.bowline.proxy.http.filter.ResponseFlag.UH.bit())
                + "]]]");
    assertThat(java.util.Objects.requireNonNull(mapper.bodyFormat()).contentType())
        .isEqualTo("text/x-b");
    // the audit no longer reports them
    assertThat(listeners.nestedIgnored(set)).isEmpty();
    // Envoy's defaults: no mapper, a new id for an edge request, none on the response
    var plain =
        (HttpConnectionManagerConfig)
            listeners
                .unpackAndParse(Any.pack(hcmWith("\"server_name\":\"s\"")))
                .value()
                .filterChains()
                .getFirst()
                .filter();
    assertThat(plain.replies()).isEqualTo(dev.bowline.proxy.config.ReplyOptions.DEFAULTS);
    String field = "l1: filter_chains[0].filters[0].typed_config.local_reply_config.mappers[0].";
    for (String[] bad :
        new String[][] {
          {"{\"filter\":{\"duration_filter\":{}}}", "filter.duration_filter: not supported"},
          {
            "{\"filter\":{\"runtime_filter\":{\"runtime_key\":\"k\"}}}",
            "filter.runtime_filter: not supported"
          },
          {
            "{\"filter\":{\"not_health_check_filter\":{}},\"status_code\":99}",
            "status_code: must be in [200, 600), got 99"
          },
          {"{}", "filter: is required"},
          {
            "{\"filter\":{\"response_flag_filter\":{\"flags\":[\"ZZ\"]}}}",
            "filter.response_flag_filter.flags[0]: unknown response flag 'ZZ'"
          },
          {
            "{\"filter\":{\"not_health_check_filter\":{}},\"body_format_override\":"
                + "{\"text_format\":\"%NOPE%\"}}",
            "body_format_override: unknown command %NOPE%"
          }
        }) {
      Listener l;
      try {
        l = hcmWith("\"local_reply_config\":{\"mappers\":[" + bad[0] + "]}");
      } catch (Exception e) {
        // protobuf's own validation (a value out of its type's range) is the client's error
        throw new IllegalStateException(bad[0], e);
      }
      assertThatThrownBy(() -> listeners.unpackAndParse(Any.pack(l)))
          .as(bad[0])
          .hasMessageContaining(field + bad[1]);
    }
  }

  @Test
  void originalDstCleanupIntervalIsReadWithEnvoysDefault() throws Exception {
    var parser = new ClusterParser();
    String odst = "{\"name\":\"o\",\"type\":\"ORIGINAL_DST\",\"lb_policy\":\"CLUSTER_PROVIDED\"%s}";
    Cluster set = cluster(odst.formatted(",\"cleanup_interval\":\"0.250s\""));
    assertThat(FieldAudit.ignored(set, Cluster.getDescriptor(), parser.honouredFields())).isEmpty();
    assertThat(parser.parse(set).discovery())
        .isEqualTo(new ClusterConfig.OriginalDst(false, java.time.Duration.ofMillis(250)));
    assertThat(parser.parse(cluster(odst.formatted(""))).discovery())
        .isEqualTo(new ClusterConfig.OriginalDst(false, java.time.Duration.ofSeconds(5)));
    var zero = Any.pack(cluster(odst.formatted(",\"cleanup_interval\":\"0s\"")));
    assertThatThrownBy(() -> parser.unpackAndParse(zero))
        .hasMessage("Cluster o: cleanup_interval: must be at least 1ms");
  }

  @Test
  void closeConnectionsOnHostHealthFailureAndIgnoreHealthOnHostRemovalAreRead() throws Exception {
    var parser = new ClusterParser();
    Cluster set =
        cluster(
            "{\"name\":\"c\",\"close_connections_on_host_health_failure\":true,"
                + "\"ignore_health_on_host_removal\":true}");
    // ignore_health_on_host_removal is honoured since hc2 (decision 0004, session 18)
    assertThat(FieldAudit.ignored(set, Cluster.getDescriptor(), parser.honouredFields())).isEmpty();
    assertThat(parser.parse(set).closeOnHealthFailure()).isTrue();
    assertThat(parser.parse(cluster("{\"name\":\"c\"}")).closeOnHealthFailure()).isFalse();
  }

  @Test
  void altStatNameNamesTheClustersStats() throws Exception {
    var parser = new ClusterParser();
    Cluster alt = cluster("{\"name\":\"outbound|80||r\",\"alt_stat_name\":\"r_alt\"}");
    assertThat(FieldAudit.ignored(alt, Cluster.getDescriptor(), parser.honouredFields())).isEmpty();
    assertThat(parser.parse(alt).statName()).isEqualTo("r_alt");
    assertThat(parser.parse(alt).name()).isEqualTo("outbound|80||r");
    assertThat(parser.parse(cluster("{\"name\":\"plain\"}")).statName()).isEqualTo("plain");
  }

  @Test
  void autoHostRewriteAndTheHostnamesItSendsAreParsed() throws Exception {
    RouteConfiguration rc =
        json(
                "{\"name\":\"a\",\"virtual_hosts\":[{\"name\":\"v\",\"domains\":[\"*\"],"
                    + "\"routes\":[{\"match\":{\"prefix\":\"/a\"},\"route\":{\"cluster\":\"c\","
                    + "\"auto_host_rewrite\":true,\"append_x_forwarded_host\":true}},"
                    + "{\"match\":{\"prefix\":\"/f\"},\"route\":{\"cluster\":\"c\","
                    + "\"auto_host_rewrite\":false}},"
                    + "{\"match\":{\"prefix\":\"/\"},\"route\":{\"cluster\":\"c\"}}]}]}",
                RouteConfiguration.newBuilder())
            .build();
    assertThat(
            FieldAudit.ignored(rc, RouteConfiguration.getDescriptor(), RouteConfigParser.HONOURED))
        .isEmpty();
    var t =
        (dev.bowline.proxy.config.RouteTable)
            new RouteConfigParser().unpackAndParse(Any.pack(rc)).value();
    var routes = t.virtualHosts().getFirst().routes();
    var on = ((RouteAction.Forward) routes.get(0).action()).policy().host();
    assertThat(on.autoHost()).isTrue();
    assertThat(on.appendForwardedHost()).isTrue();
    assertThat(((RouteAction.Forward) routes.get(1).action()).policy().host())
        .isEqualTo(dev.bowline.proxy.config.ForwardPolicy.HostRewrite.NONE);
    assertThat(((RouteAction.Forward) routes.get(2).action()).policy().host())
        .isEqualTo(dev.bowline.proxy.config.ForwardPolicy.HostRewrite.NONE);
    // EDS (and STATIC): the endpoint's hostname, empty when unset
    var cla =
        json(
                "{\"cluster_name\":\"c\",\"endpoints\":[{\"lb_endpoints\":["
                    + "{\"endpoint\":{\"hostname\":\"a.example\",\"address\":{\"socket_address\":"
                    + "{\"address\":\"10.0.0.1\",\"port_value\":80}}}},"
                    + "{\"endpoint\":{\"address\":{\"socket_address\":"
                    + "{\"address\":\"10.0.0.2\",\"port_value\":80}}}}]}]}",
                ClusterLoadAssignment.newBuilder())
            .build();
    var eds = new EndpointParser();
    assertThat(FieldAudit.ignored(cla, ClusterLoadAssignment.getDescriptor(), eds.honouredFields()))
        .isEmpty();
    assertThat(eds.unpackAndParse(Any.pack(cla)).value().endpoints())
        .extracting(dev.bowline.proxy.config.Endpoints.Endpoint::hostname)
        .containsExactly("a.example", "");
    // DNS: the endpoint's hostname, else the name resolved (Envoy's ResolveTarget)
    Cluster dns =
        cluster(
            "{\"name\":\"d\",\"type\":\"STRICT_DNS\",\"load_assignment\":{\"cluster_name\":\"d\","
                + "\"endpoints\":[{\"lb_endpoints\":["
                + "{\"endpoint\":{\"hostname\":\"named.example\",\"address\":{\"socket_address\":"
                + "{\"address\":\"svc.internal\",\"port_value\":80}}}},"
                + "{\"endpoint\":{\"address\":{\"socket_address\":"
                + "{\"address\":\"other.internal\",\"port_value\":81}}}}]}]}}");
    var parser = new ClusterParser();
    assertThat(FieldAudit.ignored(dns, Cluster.getDescriptor(), parser.honouredFields())).isEmpty();
    var d = (dev.bowline.proxy.config.ClusterConfig.Dns) parser.parse(dns).discovery();
    assertThat(d.hosts())
        .containsExactly(
            new dev.bowline.proxy.config.ClusterConfig.HostPort(
                "svc.internal", 80, 1, "named.example"),
            new dev.bowline.proxy.config.ClusterConfig.HostPort(
                "other.internal", 81, 1, "other.internal"));
  }
}
