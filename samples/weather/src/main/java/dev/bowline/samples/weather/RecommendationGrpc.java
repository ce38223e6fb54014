package dev.bowline.samples.weather;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * Recommendation over gRPC, for the proxyless-gRPC demo: one unary method, {@value #SERVICE}/{@code
 * Recommend}, whose request and response are {@code google.protobuf.Struct}s (no generated code;
 * any gRPC client with the well-known types can call it). Request fields: {@code condition}, {@code
 * high}, {@code low}, optional {@code city}; the response has the identity fields and {@code
 * items}. The same switches as the HTTP port apply; answers carry the {@code x-weather-*} headers.
 */
final class RecommendationGrpc implements AutoCloseable {

  /** The gRPC service name. */
  static final String SERVICE = "bowline.weather.v1.Recommendation";

  /** The Istio-style name of the gRPC port. */
  static final String PORT_NAME = "grpc-recommendation";

  /** {@code bowline.weather.v1.Recommendation/Recommend}: Struct in, Struct out. */
  static final MethodDescriptor<Struct, Struct> RECOMMEND =
      MethodDescriptor.<Struct, Struct>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Recommend"))
          .setRequestMarshaller(new StructMarshaller())
          .setResponseMarshaller(new StructMarshaller())
          .build();

  private final Server server;

  private RecommendationGrpc(Server server) {
    this.server = server;
  }

  static RecommendationGrpc start(
      InetSocketAddress address,
      Identity identity,
      Executor executor,
      Supplier<Switches> switches,
      DoubleSupplier random)
      throws IOException {
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(SERVICE)
            .addMethod(
                RECOMMEND,
                ServerCalls.asyncUnaryCall(
                    (request, response) ->
                        recommend(identity, switches.get(), random, request, response)))
            .build();
    Server server =
        NettyServerBuilder.forAddress(address)
            .executor(executor)
            .addService(ServerInterceptors.intercept(service, identityHeaders(identity)))
            .build();
    try {
      server.start();
    } catch (IOException e) {
      throw new IOException(
          identity.service()
              + " "
              + identity.version()
              + ": cannot listen for gRPC on "
              + address.getAddress().getHostAddress()
              + ":"
              + address.getPort()
              + " ("
              + e.getMessage()
              + ")",
          e);
    }
    return new RecommendationGrpc(server);
  }

  int port() {
    return server.getPort();
  }

  private static void recommend(
      Identity identity,
      Switches switches,
      DoubleSupplier random,
      Struct request,
      StreamObserver<Struct> response) {
    try {
      if (!switches.delay().isZero()) {
        Thread.sleep(switches.delay());
      }
      if (switches.errorRate() > 0 && random.getAsDouble() < switches.errorRate()) {
        response.onError(
            statusFor(switches.errorStatus())
                .withDescription("fault injected by the app's error-rate switch")
                .asRuntimeException());
        return;
      }
      var fields = request.getFieldsMap();
      Value condition = fields.get("condition");
      Value high = fields.get("high");
      Value low = fields.get("low");
      if (condition == null || high == null || low == null) {
        response.onError(
            Status.INVALID_ARGUMENT
                .withDescription("condition, high and low are required fields")
                .asRuntimeException());
        return;
      }
      ListValue.Builder items = ListValue.newBuilder();
      for (WeatherModel.Item item :
          WeatherModel.recommend(
              condition.getStringValue(),
              (int) high.getNumberValue(),
              (int) low.getNumberValue(),
              identity.version())) {
        items.addValues(
            Value.newBuilder()
                .setStructValue(
                    Struct.newBuilder()
                        .putFields("kind", text(item.kind()))
                        .putFields("text", text(item.text()))));
      }
      Struct.Builder out =
          Struct.newBuilder()
              .putFields("service", text(identity.service()))
              .putFields("version", text(identity.version()))
              .putFields("instance", text(identity.instance()))
              .putFields("items", Value.newBuilder().setListValue(items).build());
      Value city = fields.get("city");
      if (city != null) {
        out.putFields("city", city);
      }
      response.onNext(out.build());
      response.onCompleted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      response.onError(Status.CANCELLED.asRuntimeException());
    }
  }

  /** gRPC's HTTP-to-status mapping, for the error-status switch. */
  static Status statusFor(int httpStatus) {
    return switch (httpStatus) {
      case 400 -> Status.INTERNAL;
      case 401 -> Status.UNAUTHENTICATED;
      case 403 -> Status.PERMISSION_DENIED;
      case 404 -> Status.UNIMPLEMENTED;
      case 429, 502, 503, 504 -> Status.UNAVAILABLE;
      default -> Status.UNKNOWN;
    };
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  private static ServerInterceptor identityHeaders(Identity identity) {
    Metadata.Key<String> service =
        Metadata.Key.of("x-weather-service", Metadata.ASCII_STRING_MARSHALLER);
    Metadata.Key<String> version =
        Metadata.Key.of("x-weather-version", Metadata.ASCII_STRING_MARSHALLER);
    Metadata.Key<String> instance =
        Metadata.Key.of("x-weather-instance", Metadata.ASCII_STRING_MARSHALLER);
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return next.startCall(
            new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
              @Override
              public void sendHeaders(Metadata responseHeaders) {
                responseHeaders.put(service, identity.service());
                responseHeaders.put(version, identity.version());
                responseHeaders.put(instance, identity.instance());
                super.sendHeaders(responseHeaders);
              }
            },
            headers);
      }
    };
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Protobuf binary for {@code google.protobuf.Struct}, without grpc-protobuf. */
  static final class StructMarshaller implements MethodDescriptor.Marshaller<Struct> {
    @Override
    public InputStream stream(Struct value) {
      return value.toByteString().newInput();
    }

    @Override
    public Struct parse(InputStream stream) {
      try {
        return Struct.parseFrom(stream);
      } catch (IOException e) {
        throw Status.INTERNAL
            .withDescription("invalid Struct: " + e.getMessage())
            .withCause(e)
            .asRuntimeException();
      }
    }
  }
}
