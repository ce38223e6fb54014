package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's Secret Discovery Service ({@code envoy.service.secret.v3.SecretDiscoveryService}) on a
 * Unix domain socket, as Istio's agent serves it ({@code ./var/run/secrets/workload-spiffe-uds/
 * socket}): resource {@code default} is the workload certificate chain and key, {@code ROOTCA} the
 * trust bundle; any other name gets the workload certificate under that name, as with Istio. Every
 * open stream gets the changed resources when the certificate rotates. {@code DeltaSecrets} is
 * answered UNIMPLEMENTED, as Istio's agent does.
 *
 * <p>The socket file is made owner-only (0600): whoever can connect gets the private key.
 */
public final class SdsServer implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(SdsServer.class.getName());

  private final CertificateSource source;
  private final Clock clock;
  private final Path socket;
  private final Set<SdsStream> streams = ConcurrentHashMap.newKeySet();
  private final AtomicLong versions = new AtomicLong();
  private final AtomicLong nonces = new AtomicLong();
  private final AtomicLong streamIds = new AtomicLong();
  private @Nullable Server server;
  private @Nullable EventLoopGroup group;

  private SdsServer(CertificateSource source, Clock clock, Path socket) {
    this.source = source;
    this.clock = clock;
    this.socket = socket;
  }

  /**
   * Listens on {@code socket} (a stale socket file there is replaced) and serves {@code source}.
   *
   * @throws UncheckedIOException naming the socket when it cannot be bound
   * @throws IllegalStateException when the epoll transport is not available (not Linux x86_64)
   */
  public static SdsServer start(CertificateSource source, Path socket, Clock clock) {
    requireNonNull(source, "source");
    requireNonNull(socket, "socket");
    requireNonNull(clock, "clock");
    if (!Epoll.isAvailable()) {
      throw new IllegalStateException(
          "SDS needs Netty's epoll transport for Unix domain sockets: "
              + Epoll.unavailabilityCause());
    }
    SdsServer sds = new SdsServer(source, clock, socket.toAbsolutePath());
    sds.listen();
    return sds;
  }

  private void listen() {
    try {
      Files.createDirectories(socket.getParent());
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare SDS socket " + socket + ": " + e, e);
    }
    source.subscribe(this::onCertificate);
    EventLoopGroup g =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("bowline-sds", true), EpollIoHandler.newFactory());
    Server s =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(g)
            .workerEventLoopGroup(g)
            .directExecutor()
            .addService(new Service())
            .build();
    try {
      s.start();
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      s.shutdownNow();
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new UncheckedIOException("cannot listen on SDS socket " + socket + ": " + e, e);
    }
    server = s;
    group = g;
    LOG.log(Level.INFO, "event=sds_server_started socket={0}", socket);
  }

  /** The socket path (absolute). */
  public Path socket() {
    return socket;
  }

  /** Open streams, for health and tests. */
  public int openStreams() {
    return streams.size();
  }

  CertificateSource source() {
    return source;
  }

  String nextVersion() {
    return DateTimeFormatter.ISO_INSTANT.format(clock.instant().truncatedTo(ChronoUnit.SECONDS))
        + "/"
        + versions.incrementAndGet();
  }

  String nextNonce() {
    return Long.toString(nonces.incrementAndGet(), 36);
  }

  void remove(SdsStream stream) {
    streams.remove(stream);
  }

  private void onCertificate(WorkloadCertificate cert) {
    for (SdsStream s : streams) {
      s.push(cert);
    }
  }

  /** Closes every stream and the socket, and removes the socket file. */
  @Override
  public void close() {
    Server s = server;
    if (s != null) {
      s.shutdownNow();
      try {
        s.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    EventLoopGroup g = group;
    if (g != null) {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "event=sds_socket_not_removed socket={0} error=\"{1}\"", socket, e);
    }
    LOG.log(Level.INFO, "event=sds_server_stopped socket={0}", socket);
  }

  private final class Service extends SecretDiscoveryServiceGrpc.SecretDiscoveryServiceImplBase {
    @Override
    public StreamObserver<DiscoveryRequest> streamSecrets(
        StreamObserver<DiscoveryResponse> responseObserver) {
      SdsStream stream =
          new SdsStream(SdsServer.this, responseObserver, streamIds.incrementAndGet());
      streams.add(stream);
      return stream;
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaSecrets(
        StreamObserver<DeltaDiscoveryResponse> responseObserver) {
      responseObserver.onError(
          Status.UNIMPLEMENTED
              .withDescription("DeltaSecrets is not implemented; use StreamSecrets (as with Istio)")
              .asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(DeltaDiscoveryRequest value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
  }
}
