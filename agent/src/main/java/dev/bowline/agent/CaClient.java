package dev.bowline.agent;

import dev.bowline.ca.proto.IstioCertificateRequest;
import dev.bowline.ca.proto.IstioCertificateServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * One {@code CreateCertificate} call to the CA over TLS. A channel per call: calls are rare (one
 * per rotation), and each may present a different client certificate.
 */
final class CaClient {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final AgentConfig config;

  CaClient(AgentConfig config) {
    this.config = config;
  }

  /** A failed call: the CA refused, or could not be reached. */
  static final class CallFailedException extends Exception {
    CallFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Asks for a certificate.
   *
   * @param trusted roots the CA's serving certificate must chain to
   * @param clientCertificate present it (renewal) instead of the token, when not null
   */
  List<String> createCertificate(
      String csrPem,
      Collection<X509Certificate> trusted,
      @Nullable WorkloadCertificate clientCertificate)
      throws CallFailedException {
    String how = clientCertificate != null ? "certificate" : "token";
    ManagedChannel channel;
    try {
      SslContextBuilder ssl =
          GrpcSslContexts.forClient().trustManager(trusted.toArray(X509Certificate[]::new));
      if (clientCertificate != null) {
        ssl.keyManager(
            clientCertificate.privateKey(),
            clientCertificate.chain().toArray(X509Certificate[]::new));
      }
      SslContext context = ssl.build();
      channel =
          NettyChannelBuilder.forAddress(config.caHost(), config.caPort())
              .overrideAuthority(config.caServerName())
              .sslContext(context)
              .build();
    } catch (SSLException e) {
      throw new CallFailedException("cannot set up TLS to the CA: " + e.getMessage(), e);
    }
    try {
      var stub =
          IstioCertificateServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(config.caTimeout().toNanos(), TimeUnit.NANOSECONDS);
      if (clientCertificate == null) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + config.token());
        stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
      }
      Duration ttl = config.requestedTtl();
      return stub.createCertificate(
              IstioCertificateRequest.newBuilder()
                  .setCsr(csrPem)
                  .setValidityDuration(ttl.toSeconds())
                  .build())
          .getCertChainList();
    } catch (StatusRuntimeException e) {
      String description = e.getStatus().getDescription();
      throw new CallFailedException(
          "CA "
              + config.caHost()
              + ":"
              + config.caPort()
              + " ("
              + how
              + ") answered "
              + e.getStatus().getCode()
              + (description != null ? ": " + description : ""),
          e);
    } finally {
      channel.shutdownNow();
    }
  }
}
