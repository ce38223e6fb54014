package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC through the proxy: h2c downstream, HTTP/2 upstream, trailers, grpc-status on local replies.
 */
class GrpcProxyTest {
  static final String IP = "127.0.6.50";
  static Server backend;
  static Proxy proxy;
  static ManagedChannel channel;
  static HealthStatusManager health = new HealthStatusManager();

  @BeforeAll
  static void start() throws Exception {
    backend =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.6.51", 0))
            .addService(health.getHealthService())
            .build()
            .start();
    health.setStatus("weather", HealthCheckResponse.ServingStatus.SERVING);
    SocketProxy socket =
        SocketProxy.on(IP)
            .http(
                "grpc",
                "",
                SocketProxy.to("/grpc.health.v1.Health/Watch", "nowhere"),
                SocketProxy.to("/", "app"))
            .cluster(
                "app",
                "127.0.6.51",
                backend.getPort(),
                SocketProxy.httpProtocolOptions(
                    "explicit_http_config: {http2_protocol_options: {}}"))
            .options(ProxyOptions.defaults().withWorkers(2))
            .start();
    proxy = socket.proxy;
    int port = socket.port("grpc");
    channel = NettyChannelBuilder.forAddress(IP, port).usePlaintext().build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    proxy.close();
    backend.shutdownNow().awaitTermination();
  }

  @Test
  void unaryCallsPassThroughWithStatusInTrailers() {
    // a deadline per call (withDeadlineAfter fixes the instant when the stub is made, so one stub
    // for all calls shared 5 s among them, too little on a loaded machine)
    var stub = HealthGrpc.newBlockingStub(channel);
    for (int i = 0; i < 10; i++) {
      assertThat(
              stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                  .check(HealthCheckRequest.newBuilder().setService("weather").build())
                  .getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
    // an error status from the server travels in the trailers
    assertThatThrownBy(
            () ->
                stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService("unknown").build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void aLocalReplyIsAGrpcStatus() {
    var stub = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    var watch = stub.watch(HealthCheckRequest.newBuilder().setService("weather").build());
    assertThatThrownBy(watch::next)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }
}
