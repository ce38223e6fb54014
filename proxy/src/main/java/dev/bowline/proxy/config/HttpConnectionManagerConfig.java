package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.List;

/**
 * {@code envoy.filters.network.http_connection_manager}.
 *
 * @param statPrefix for {@code http.<prefix>.*} stats
 * @param codec which HTTP versions the connection accepts
 * @param routes inline routes or the name of an RDS route configuration
 * @param httpFilters the HTTP filter chain in order, router last
 * @param useRemoteAddress whether the peer is the client (appends it to x-forwarded-for)
 * @param skipXffAppend never touch x-forwarded-for
 * @param generateRequestId add x-request-id when absent
 * @param maxRequestHeadersBytes larger request headers are refused with 431
 * @param streamIdleTimeout zero disables
 * @param requestTimeout zero disables
 * @param serverName the {@code server} response header on local replies
 * @param websocket whether {@code upgrade_configs} allows WebSocket upgrades
 * @param accessLogs {@code access_log}: file loggers, each written when a stream ends
 * @param clientCert {@code forward_client_cert_details} and {@code set_current_client_cert_details}
 * @param tracer {@code tracing} with a provider: spans and context propagation; null when off
 * @param paths {@code normalize_path}, {@code merge_slashes}, {@code
 *     path_with_escaped_slashes_action}
 * @param connect whether {@code upgrade_configs} enables {@code CONNECT} (off: CONNECT gets 403)
 * @param codecOptions {@code http_protocol_options}, {@code http2_protocol_options} and the
 *     invalid-messaging switches, resolved
 * @param replies {@code local_reply_config} and the request-id options
 * @param clientAddress {@code xff_num_trusted_hops} and {@code internal_address_config}, resolved
 * @param headers {@code via} and {@code server_header_transformation}, resolved
 * @param accessLogFlush {@code access_log_options} (or the deprecated top-level fields): the
 *     access-log lines besides the stream's end
 */
public record HttpConnectionManagerConfig(
    String statPrefix,
    Codec codec,
    RouteSource routes,
    List<HttpFilterConfig> httpFilters,
    boolean useRemoteAddress,
    boolean skipXffAppend,
    boolean generateRequestId,
    int maxRequestHeadersBytes,
    Duration streamIdleTimeout,
    Duration requestTimeout,
    String serverName,
    boolean websocket,
    List<dev.bowline.proxy.accesslog.FileAccessLog> accessLogs,
    ClientCertDetails clientCert,
    dev.bowline.proxy.tracing.@org.jspecify.annotations.Nullable HttpTracer tracer,
    PathNormalization paths,
    boolean connect,
    CodecOptions codecOptions,
    ReplyOptions replies,
    ClientAddressConfig clientAddress,
    ConnectionHeaders headers,
    AccessLogFlush accessLogFlush)
    implements NetworkFilter {
  public HttpConnectionManagerConfig {
    httpFilters = List.copyOf(httpFilters);
    accessLogs = List.copyOf(accessLogs);
  }

  /** {@code http2_protocol_options.max_concurrent_streams}. */
  public int maxConcurrentStreams() {
    return codecOptions.maxConcurrentStreams();
  }

  /**
   * Whether the request's {@code x-forwarded-proto} and {@code x-forwarded-port} are this
   * connection's whatever the client sent: Envoy's edge case, {@code use_remote_address} with no
   * {@code xff_num_trusted_hops} (a trusted proxy in front would have set them).
   */
  public boolean edgeScheme() {
    return useRemoteAddress && clientAddress.xffNumTrustedHops() == 0;
  }

  /** Envoy's {@code codec_type}. */
  public enum Codec {
    AUTO,
    HTTP1,
    HTTP2
  }

  /** Where the route table comes from. */
  public sealed interface RouteSource {}

  /** Routes written in the listener. */
  public record InlineRoutes(RouteTable table) implements RouteSource {}

  /** Routes fetched by RDS under {@code name}. */
  public record RdsRoutes(String name) implements RouteSource {}
}
