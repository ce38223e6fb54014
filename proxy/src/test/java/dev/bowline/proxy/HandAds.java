package dev.bowline.proxy;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A hand-driven ADS server (State of the World) on a real gRPC port: it sends exactly the responses
 * a test names, in that order, on the latest stream, and records every request.
 */
final class HandAds implements AutoCloseable {
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  /** An HTTP/1.1 client for the tests' requests to the proxy and its admin. */
  static final java.net.http.HttpClient CLIENT =
      java.net.http.HttpClient.newBuilder()
          .version(java.net.http.HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2))
          .build();

  final AtomicReference<StreamObserver<DiscoveryResponse>> stream = new AtomicReference<>();
  final List<DiscoveryRequest> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger nonce = new AtomicInteger();
  private final Server server;
  final String ip;
  final int port;

  HandAds(String ip) throws IOException {
    this.ip = ip;
    port = Ports.free(ip);
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(ip, port))
            .addService(
                new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
                  @Override
                  public StreamObserver<DiscoveryRequest> streamAggregatedResources(
                      StreamObserver<DiscoveryResponse> out) {
                    stream.set(out);
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(DiscoveryRequest r) {
                        requests.add(r);
                      }

                      @Override
                      public void onError(Throwable t) {}

                      @Override
                      public void onCompleted() {
                        out.onCompleted();
                      }
                    };
                  }
                })
            .build()
            .start();
  }

  /**
   * Starts a proxy whose bootstrap names this server as its ADS (SotW, gRPC) with node {@code node}
   * and its admin on this server's address at {@code adminPort}; returns once its stream is open.
   */
  Proxy startProxy(String node, int adminPort, ProxyOptions options) throws Exception {
    String bootstrap = AdsBootstrap.yaml(node, "GRPC", ip, adminPort, ip, port);
    Proxy proxy =
        Proxy.start(
            new dev.bowline.proxy.bootstrap.BootstrapLoader().parse(node + ".yaml", bootstrap),
            options);
    awaitStream();
    return proxy;
  }

  /** The body of a GET of {@code path} from {@code ip:port} (2 s timeout). */
  static String get(String ip, int port, String path) throws Exception {
    return CLIENT
        .send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://" + ip + ":" + port + path))
                .timeout(Duration.ofSeconds(2))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** {@code cluster}'s assignment: the one endpoint {@code be}. */
  static io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment endpoints(
      String cluster, Backend be) {
    return endpoints(cluster, be.ip(), be.port());
  }

  /** {@code cluster}'s assignment: the one endpoint {@code ip:port}. */
  static io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment endpoints(
      String cluster, String ip, int port) {
    return io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(
            io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(
                    io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint.newBuilder()
                        .setEndpoint(
                            io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                                .setAddress(XdsProxyTest.address(ip, port)))))
        .build();
  }

  /** {@code cluster}'s assignment with one endpoint that has no address: a proxy NACKs it. */
  static io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment unaddressed(String cluster) {
    return io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.newBuilder()
        .setClusterName(cluster)
        .addEndpoints(
            io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints.newBuilder()
                .addLbEndpoints(
                    io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint.getDefaultInstance()))
        .build();
  }

  /**
   * The listener {@code ingress} on {@code ip:port}: an HTTP connection manager (stat prefix {@code
   * ingress}) routing by the RDS table {@code routes} over ADS.
   */
  static io.envoyproxy.envoy.config.listener.v3.Listener ingress(String ip, int port) {
    var hcm =
        io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
            .HttpConnectionManager.newBuilder()
            .setStatPrefix("ingress")
            .setRds(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds
                    .newBuilder()
                    .setRouteConfigName("routes")
                    .setConfigSource(XdsProxyTest.ADS))
            .addHttpFilters(
                io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
                    .newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(
                        Any.pack(
                            io.envoyproxy.envoy.extensions.filters.http.router.v3.Router
                                .getDefaultInstance())))
            .build();
    return io.envoyproxy.envoy.config.listener.v3.Listener.newBuilder()
        .setName("ingress")
        .setAddress(XdsProxyTest.address(ip, port))
        .addFilterChains(
            io.envoyproxy.envoy.config.listener.v3.FilterChain.newBuilder()
                .addFilters(
                    io.envoyproxy.envoy.config.listener.v3.Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  /** Waits for the proxy's stream. */
  void awaitStream() {
    await().atMost(Duration.ofSeconds(10)).until(() -> stream.get() != null);
  }

  /** Sends a response of {@code resources} at {@code version}; returns its nonce. */
  String send(String typeUrl, String version, Message... resources) {
    String n = String.valueOf(nonce.incrementAndGet());
    var r = DiscoveryResponse.newBuilder().setTypeUrl(typeUrl).setVersionInfo(version).setNonce(n);
    for (Message m : resources) {
      r.addResources(Any.pack(m));
    }
    synchronized (stream) {
      stream.get().onNext(r.build());
    }
    return n;
  }

  long nacks(String typeUrl) {
    return requests.stream()
        .filter(r -> r.getTypeUrl().equals(typeUrl) && r.hasErrorDetail())
        .count();
  }

  boolean acked(String typeUrl, String version) {
    return requests.stream()
        .anyMatch(
            r ->
                r.getTypeUrl().equals(typeUrl)
                    && r.getVersionInfo().equals(version)
                    && !r.hasErrorDetail());
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination();
  }
}
