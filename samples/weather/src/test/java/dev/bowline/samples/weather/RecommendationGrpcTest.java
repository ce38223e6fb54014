package dev.bowline.samples.weather;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The gRPC port of recommendation, called by a real grpc-java client over loopback. */
class RecommendationGrpcTest {

  @Test
  void recommendAnswersWithItemsAndNamesTheInstance() throws IOException {
    try (WeatherApp app = start("127.0.72.1", "v2")) {
      int grpcPort = app.grpcPort();
      assertThat(grpcPortOf(app)).isEqualTo(grpcPort);
      ManagedChannel channel =
          NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.72.1", grpcPort))
              .usePlaintext()
              .build();
      try {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        var call =
            ClientInterceptors.intercept(
                    channel, MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
                .newCall(
                    RecommendationGrpc.RECOMMEND,
                    CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS));
        Struct reply =
            ClientCalls.blockingUnaryCall(
                call,
                Struct.newBuilder()
                    .putFields("condition", Value.newBuilder().setStringValue("heavy rain").build())
                    .putFields("high", Value.newBuilder().setNumberValue(12).build())
                    .putFields("low", Value.newBuilder().setNumberValue(6).build())
                    .putFields("city", Value.newBuilder().setStringValue("chengdu").build())
                    .build());

        assertThat(reply.getFieldsOrThrow("version").getStringValue()).isEqualTo("v2");
        assertThat(reply.getFieldsOrThrow("instance").getStringValue()).isEqualTo(app.instance());
        assertThat(reply.getFieldsOrThrow("city").getStringValue()).isEqualTo("chengdu");
        assertThat(
                reply.getFieldsOrThrow("items").getListValue().getValuesList().stream()
                    .map(v -> v.getStructValue().getFieldsOrThrow("kind").getStringValue()))
            .contains("clothing", "umbrella", "travel");
        assertThat(
                headers
                    .get()
                    .get(Metadata.Key.of("x-weather-instance", Metadata.ASCII_STRING_MARSHALLER)))
            .isEqualTo(app.instance());

        app.switches(Switches.NONE.withErrorRate(1).withErrorStatus(503));
        assertThatThrownBy(
                () ->
                    ClientCalls.blockingUnaryCall(
                        channel,
                        RecommendationGrpc.RECOMMEND,
                        CallOptions.DEFAULT,
                        Struct.getDefaultInstance()))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

        app.switches(Switches.NONE);
        assertThatThrownBy(
                () ->
                    ClientCalls.blockingUnaryCall(
                        channel,
                        RecommendationGrpc.RECOMMEND,
                        CallOptions.DEFAULT,
                        Struct.getDefaultInstance()))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> {
                  assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                  assertThat(e.getStatus().getDescription())
                      .isEqualTo("condition, high and low are required fields");
                });
      } finally {
        channel.shutdownNow();
      }
    }
  }

  @Test
  void busyGrpcPortFailsTheStartNamingItAndFreesTheHttpPort() throws IOException {
    InetAddress address = InetAddress.getByName("127.0.72.2");
    try (ServerSocket busy = new ServerSocket(0, 1, address);
        ServerSocket httpProbe = new ServerSocket(0, 1, address)) {
      int httpPort = httpProbe.getLocalPort();
      httpProbe.close();
      WeatherOptions options =
          WeatherOptions.defaults(Role.RECOMMENDATION, "v1")
              .withListen(address, httpPort)
              .withGrpcPort(busy.getLocalPort());

      assertThatThrownBy(() -> WeatherApp.start(options))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith(
              "recommendation v1: cannot listen for gRPC on 127.0.72.2:" + busy.getLocalPort());

      try (ServerSocket again = new ServerSocket(httpPort, 1, address)) {
        assertThat(again.getLocalPort()).isEqualTo(httpPort);
      }
    }
  }

  private static WeatherApp start(String address, String version) throws IOException {
    return WeatherApp.start(
        WeatherOptions.defaults(Role.RECOMMENDATION, version)
            .withListen(InetAddress.getByName(address), 0)
            .withGrpcPort(0));
  }

  private static int grpcPortOf(WeatherApp app) {
    try (Http http = new Http()) {
      return http.json(http.get(app.uri().resolve("/health")))
          .at("/ports/" + RecommendationGrpc.PORT_NAME)
          .asInt();
    }
  }
}
