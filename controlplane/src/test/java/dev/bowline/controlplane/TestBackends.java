package dev.bowline.controlplane;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Real gRPC backends for tests: each answers {@code test.Who/Name} with its own name. */
final class TestBackends {
  private TestBackends() {}

  static final MethodDescriptor.Marshaller<String> STRING =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };

  static final MethodDescriptor<String, String> WHO =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Who/Name")
          .setRequestMarshaller(STRING)
          .setResponseMarshaller(STRING)
          .build();

  /** Starts a backend named {@code name} on {@code ip} and a free port. */
  static Server start(String name, String ip) throws IOException {
    ServerServiceDefinition service =
        ServerServiceDefinition.builder("test.Who")
            .addMethod(
                WHO,
                ServerCalls.asyncUnaryCall(
                    (req, out) -> {
                      out.onNext(name);
                      out.onCompleted();
                    }))
            .build();
    return NettyServerBuilder.forAddress(new InetSocketAddress(ip, 0))
        .addService(service)
        .build()
        .start();
  }
}
