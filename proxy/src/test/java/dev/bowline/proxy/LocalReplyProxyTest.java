package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bowline.proxy.SocketProxy.Reply;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code local_reply_config}, {@code preserve_external_request_id} and
 * {@code always_set_request_id_in_response}, over real sockets: {@code mapped} rewrites its local
 * replies (no route, an upstream connect failure, a direct response, headers too large, a gRPC
 * request without a route), {@code plain} answers as Envoy does by default, {@code ids} and {@code
 * keep} echo the request id on their responses, {@code keep} preserving an edge request's own.
 */
class LocalReplyProxyTest {
  static final String IP = "127.0.7.50";
  static final String DEAD_IP = "127.0.7.51"; // nothing listens there: connect failures (UF)
  static Proxy proxy;
  static final Map<String, Integer> ports = new LinkedHashMap<>();
  static ManagedChannel channel;

  static String listener(String name, String options) {
    return """
          - name: %1$s
            address: {socket_address: {address: %2$s, port_value: %3$d}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: %1$s
        %4$s
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    name: %1$s
                    virtual_hosts:
                    - name: any
                      domains: ["*"]
                      routes:
                      - match: {prefix: /direct}
                        direct_response: {status: 200, body: {inline_string: hello}}
                      - match: {prefix: /down}
                        route: {cluster: dead}
        """
        .formatted(name, IP, ports.get(name), options);
  }

  @BeforeAll
  static void start() throws IOException {
    for (String n : new String[] {"mapped", "plain", "ids", "keep"}) {
      ports.put(n, Ports.free(IP));
    }
    String mapped =
        """
                  max_request_headers_kb: 2
                  local_reply_config:
                    mappers:
                    - filter: {header_filter: {header: {name: x-reply, string_match: {exact: json}}}}
                      body_format_override:
                        json_format: {code: "%RESPONSE_CODE%", message: "%LOCAL_REPLY_BODY%", path: "%REQ(:PATH)%"}
                    - filter: {status_code_filter: {comparison: {op: EQ, value: {default_value: 404, runtime_key: lr_404}}}}
                      status_code: 410
                      body: {inline_string: gone away}
                      headers_to_add:
                      - header: {key: x-mapped, value: nr}
                    - filter:
                        and_filter:
                          filters:
                          - status_code_filter: {comparison: {op: GE, value: {default_value: 500, runtime_key: lr_5xx}}}
                          - response_flag_filter: {flags: [UF, UH]}
                      status_code: 502
                      body: {inline_string: upstream gone}
                    - filter:
                        or_filter:
                          filters:
                          - status_code_filter: {comparison: {op: EQ, value: {default_value: 413, runtime_key: a}}}
                          - status_code_filter: {comparison: {op: EQ, value: {default_value: 431, runtime_key: b}}}
                      headers_to_add:
                      - header: {key: x-mapped, value: size}
                    body_format:
                      text_format: "bowline: %LOCAL_REPLY_BODY% (%RESPONSE_CODE%)"
                      content_type: text/x-bowline
        """;
    String ids =
        """
                  use_remote_address: true
                  always_set_request_id_in_response: true
                  internal_address_config:
                    cidr_ranges: [{address_prefix: 127.0.0.0, prefix_len: 8}]
        """;
    String yaml =
        """
        node: {id: local-reply-test, cluster: test}
        static_resources:
          listeners:
        %s%s%s%s
          clusters:
          - name: dead
            type: STATIC
            connect_timeout: 10s
            load_assignment:
              cluster_name: dead
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
            .formatted(
                listener("mapped", mapped),
                listener("plain", ""),
                listener("ids", ids),
                listener("keep", ids + "          preserve_external_request_id: true\n"),
                DEAD_IP,
                Ports.free(DEAD_IP));
    var bs = new BootstrapLoader().parse("local-reply.yaml", yaml);
    proxy = Proxy.start(bs, ProxyOptions.defaults().withWorkers(1));
    channel = NettyChannelBuilder.forAddress(IP, ports.get("mapped")).usePlaintext().build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
    proxy.close();
  }

  /** One HTTP/1.1 GET on its own connection; {@code headers} are extra {@code name, value}. */
  static Reply get(String listener, String path, String... headers) throws IOException {
    return SocketProxy.request(IP, ports.get(listener), "h.example", path, headers);
  }

  @Test
  void noRouteIsRewrittenByTheFirstMatchingMapperAndFormattedByTheBodyFormat() throws Exception {
    Reply r = get("mapped", "/nothing");
    assertThat(r.status()).isEqualTo(410);
    assertThat(r.body()).isEqualTo("bowline: gone away (410)");
    assertThat(r.headers())
        .containsEntry("content-type", "text/x-bowline")
        .containsEntry("content-length", String.valueOf(r.body().length()))
        .containsEntry("x-mapped", "nr");
    // Envoy's default: an empty 404, no content type
    Reply plain = get("plain", "/nothing");
    assertThat(plain.status()).isEqualTo(404);
    assertThat(plain.body()).isEmpty();
    assertThat(plain.headers()).doesNotContainKey("content-type").doesNotContainKey("x-mapped");
  }

  @Test
  void aHeaderFilterPicksTheMappersJsonFormatOverTheConfigsAndMappersAreTriedInOrder()
      throws Exception {
    Reply r = get("mapped", "/nothing", "x-reply", "json");
    assertThat(r.status()).isEqualTo(404); // the first mapper matched: no status rewrite
    assertThat(r.headers())
        .containsEntry("content-type", "application/json")
        .doesNotContainKey("x-mapped");
    assertThat(r.body().trim()).isEqualTo("{\"code\":404,\"message\":\"\",\"path\":\"/nothing\"}");
  }

  @Test
  void anUpstreamConnectFailureMatchesTheAndFilterOfStatusAndResponseFlag() throws Exception {
    Reply r = get("mapped", "/down");
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).isEqualTo("bowline: upstream gone (502)");
    Reply plain = get("plain", "/down");
    assertThat(plain.status()).isEqualTo(503);
    assertThat(plain.body())
        .startsWith("upstream connect error or disconnect/reset before headers");
  }

  @Test
  void aDirectResponseIsALocalReplyToEnvoyAndTakesTheBodyFormat() throws Exception {
    // Envoy's router answers a direct_response with sendLocalReply, through local_reply_config
    Reply r = get("mapped", "/direct");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("bowline: hello (200)");
    assertThat(r.headers()).containsEntry("content-type", "text/x-bowline");
    assertThat(get("plain", "/direct").body()).isEqualTo("hello");
  }

  @Test
  void aCodecErrorReplyGoesThroughTheMapperToo() throws Exception {
    Reply r = get("mapped", "/direct", "x-big", "v".repeat(4096));
    assertThat(r.status()).isEqualTo(431);
    assertThat(r.headers()).containsEntry("x-mapped", "size");
    assertThat(r.body()).isEqualTo("bowline: Request Header Fields Too Large (431)");
  }

  @Test
  void aGrpcRequestKeepsAGrpcStatusReplyFromTheRewrittenStatusAndBody() {
    // no route: 404 rewritten to 410, which gRPC maps to UNKNOWN; the body is the grpc-message
    var stub = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    assertThatThrownBy(() -> stub.check(HealthCheckRequest.newBuilder().setService("x").build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
              assertThat(e.getStatus().getDescription()).isEqualTo("bowline: gone away (410)");
              assertThat(
                      e.getTrailers()
                          .get(
                              io.grpc.Metadata.Key.of(
                                  "x-mapped", io.grpc.Metadata.ASCII_STRING_MARSHALLER)))
                  .isEqualTo("nr");
            });
  }

  @Test
  void anEdgeRequestsOwnIdIsReplacedUnlessPreservedAndTheIdIsOnTheResponse() throws Exception {
    // an x-forwarded-for makes the request external (Envoy: not a single internal address)
    Reply edge =
        get("ids", "/direct", "x-request-id", "from-client", "x-forwarded-for", "203.0.113.9");
    assertThat(edge.headers().get("x-request-id")).isNotEqualTo("from-client").hasSize(36);
    Reply kept =
        get("keep", "/direct", "x-request-id", "from-client", "x-forwarded-for", "203.0.113.9");
    assertThat(kept.headers()).containsEntry("x-request-id", "from-client");
    // a kept UUID loses the trace reason packed in it (9: sampled), as Envoy's UUID extension
    String sampled = "0123abcd-0123-9123-8123-0123456789ab";
    assertThat(
            get("keep", "/direct", "x-request-id", sampled, "x-forwarded-for", "203.0.113.9")
                .headers())
        .containsEntry("x-request-id", "0123abcd-0123-4123-8123-0123456789ab");
    // an empty id is no id
    assertThat(get("keep", "/direct", "x-request-id", "").headers().get("x-request-id"))
        .hasSize(36);
    // a request straight from an internal address (internal_address_config: loopback here;
    // Envoy's current default names none) keeps its id either way
    Reply internal = get("ids", "/direct", "x-request-id", "from-client");
    assertThat(internal.headers()).containsEntry("x-request-id", "from-client");
    // one without an id gets a new one, on the response too; a listener without the option: none
    assertThat(get("ids", "/nothing").headers().get("x-request-id")).hasSize(36);
    assertThat(get("plain", "/direct").headers()).doesNotContainKey("x-request-id");
  }
}
