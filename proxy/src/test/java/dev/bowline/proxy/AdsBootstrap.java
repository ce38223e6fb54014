package dev.bowline.proxy;

/**
 * The bootstrap of a proxy that takes its listeners and clusters by ADS from a test's xDS server
 * (java-control-plane's), reached through the static HTTP/2 cluster {@code xds}; node cluster
 * {@code test}.
 */
final class AdsBootstrap {
  private AdsBootstrap() {}

  /** A started java-control-plane ADS server on {@code ip:port} that answers from {@code cache}. */
  static io.grpc.Server server(
      String ip, int port, io.envoyproxy.controlplane.cache.v3.SimpleCache<String> cache)
      throws java.io.IOException {
    return io.grpc.netty.NettyServerBuilder.forAddress(new java.net.InetSocketAddress(ip, port))
        .addService(
            new io.envoyproxy.controlplane.server.V3DiscoveryServer(cache)
                .getAggregatedDiscoveryServiceImpl())
        .build()
        .start();
  }

  /** ADS over state-of-the-world gRPC streams, no admin. */
  static String yaml(String nodeId, String xdsIp, int xdsPort) {
    return "node: {id: " + nodeId + ", cluster: test}\n" + ads("GRPC", xdsIp, xdsPort);
  }

  /** ADS by {@code apiType} ({@code GRPC} or {@code DELTA_GRPC}), admin on {@code adminIp}. */
  static String yaml(
      String nodeId, String apiType, String adminIp, int adminPort, String xdsIp, int xdsPort) {
    return "node: {id: "
        + nodeId
        + ", cluster: test}\n"
        + "admin: {address: {socket_address: {address: %s, port_value: %d}}}\n"
            .formatted(adminIp, adminPort)
        + ads(apiType, xdsIp, xdsPort);
  }

  private static String ads(String apiType, String xdsIp, int xdsPort) {
    return """
        dynamic_resources:
          ads_config:
            api_type: %s
            transport_api_version: V3
            grpc_services: [{envoy_grpc: {cluster_name: xds}}]
          lds_config: {ads: {}, resource_api_version: V3}
          cds_config: {ads: {}, resource_api_version: V3}
        static_resources:
          clusters:
          - name: xds
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: xds
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
        .formatted(apiType, xdsIp, xdsPort);
  }
}
