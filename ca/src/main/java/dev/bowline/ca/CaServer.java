package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Istio's CSR API over gRPC with TLS: {@code istio.v1.auth.IstioCertificateService} on :15012.
 * Callers authenticate with {@code authorization: Bearer <token>} metadata (vouched for by a {@link
 * TokenAuthenticator}) or, to renew, with their current certificate as TLS client certificate.
 *
 * <p>Signing runs on a pool of {@link CaServerConfig#threads()} threads, never on Netty's event
 * loops. {@link #close()} stops accepting, lets running calls finish, and releases the port.
 */
public final class CaServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(CaServer.class.getName());
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Server server;
  private final ExecutorService executor;
  private final ServingKeyManager keyManager;

  private CaServer(Server server, ExecutorService executor, ServingKeyManager keyManager) {
    this.server = server;
    this.executor = executor;
    this.keyManager = keyManager;
  }

  /**
   * Binds and starts serving; when this returns, the port accepts connections.
   *
   * @throws UncheckedIOException when the address cannot be bound
   */
  public static CaServer start(
      CertificateAuthority ca, CaServerConfig config, TokenAuthenticator tokens) {
    requireNonNull(ca, "ca");
    requireNonNull(config, "config");
    requireNonNull(tokens, "tokens");
    Set<String> names = new LinkedHashSet<>(config.serverNames());
    names.add(config.host());
    ServingKeyManager keyManager = new ServingKeyManager(ca, List.copyOf(names));
    SslContext ssl;
    try {
      ssl =
          GrpcSslContexts.configure(
                  SslContextBuilder.forServer(keyManager)
                      .trustManager(new DeferredClientTrust())
                      .clientAuth(ClientAuth.OPTIONAL),
                  SslProvider.JDK)
              .build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot set up TLS for the CA server: " + e.getMessage(), e);
    }
    AtomicInteger threadNumber = new AtomicInteger();
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            config.threads(),
            config.threads(),
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "bowline-ca-" + threadNumber.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    executor.allowCoreThreadTimeOut(true);
    CertificateService service = new CertificateService(ca, new CallerAuthenticator(ca, tokens));
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()))
            .sslContext(ssl)
            .executor(executor)
            .maxInboundMessageSize(config.maxMessageBytes())
            .maxInboundMetadataSize(16 * 1024)
            .addService(ServerInterceptors.intercept(service, new CaptureCredentials()))
            .build();
    try {
      server.start();
    } catch (IOException e) {
      executor.shutdownNow();
      throw new UncheckedIOException(
          "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
    }
    LOG.log(
        System.Logger.Level.INFO,
        "event=ca_server_started address={0}:{1} names={2}",
        config.host(),
        String.valueOf(((InetSocketAddress) server.getListenSockets().getFirst()).getPort()),
        names);
    return new CaServer(server, executor, keyManager);
  }

  /** The bound port (useful with port 0). */
  public int port() {
    return ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
  }

  /** The certificate chain the server presents now (leaf first). */
  public List<X509Certificate> servingChain() {
    return List.of(keyManager.servingChain());
  }

  /** Stops accepting calls, waits up to 5 s for running ones, then releases port and threads. */
  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    } finally {
      executor.shutdownNow();
    }
    LOG.log(System.Logger.Level.INFO, "event=ca_server_stopped");
  }

  /** Puts the call's bearer token and TLS peer chain into its Context. */
  private static final class CaptureCredentials implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      List<X509Certificate> chain = new ArrayList<>();
      SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
      if (session != null) {
        try {
          for (Certificate c : session.getPeerCertificates()) {
            if (c instanceof X509Certificate x) {
              chain.add(x);
            }
          }
        } catch (SSLPeerUnverifiedException e) {
          // no client certificate: the caller must bring a token
        }
      }
      var credentials = new CallerAuthenticator.Credentials(headers.get(AUTHORIZATION), chain);
      Context ctx = Context.current().withValue(CertificateService.CREDENTIALS, credentials);
      return Contexts.interceptCall(ctx, call, headers, next);
    }
  }

  /**
   * Accepts any client chain at the TLS layer (the handshake still proves the peer holds the key);
   * {@link CallerAuthenticator} checks it against the current trust bundle per call and says
   * precisely what is wrong. Never used for server certificates.
   */
  private static final class DeferredClientTrust extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
      throw new UnsupportedOperationException("server-side trust manager");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
      throw new UnsupportedOperationException("server-side trust manager");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      throw new UnsupportedOperationException("server-side trust manager");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
