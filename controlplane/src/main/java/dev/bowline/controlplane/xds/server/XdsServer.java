package dev.bowline.controlplane.xds.server;

import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.push.PushQueue;
import dev.bowline.controlplane.push.PushRequest;
import dev.bowline.controlplane.xds.gen.Generators;
import dev.bowline.controlplane.xds.gen.ResourceNames;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The ADS server: Envoy's {@code AggregatedDiscoveryService}, both {@code
 * StreamAggregatedResources} (state of the world) and {@code DeltaAggregatedResources}, over
 * grpc-java. It keeps the connected streams, the current {@link PushContext}, the generation cache
 * shared by equivalent proxies, and the push queue that bounds how many pushes run at once.
 */
public final class XdsServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(XdsServer.class.getName());
  private static final int REJECTED_KEPT = 100;
  private static final Context.Key<String> PEER = Context.key("bowline-peer");

  private final Generators generators;
  private final XdsMetrics metrics;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private final GenerationCache cache;
  private final PushQueue<XdsConnection> queue;
  private final AtomicReference<PushContext> pushContext;
  private final Map<String, XdsConnection> connections = new ConcurrentHashMap<>();
  private final ArrayDeque<SyncStatus.Rejected> rejected = new ArrayDeque<>();
  private final AtomicLong streamIds = new AtomicLong();
  private @Nullable Server server;
  private volatile @Nullable PushStatus lastPush;
  private volatile ProxyLifecycle lifecycle = new ProxyLifecycle() {};

  /** Told when a proxy's stream starts (after its node was accepted) and when it ends. */
  public interface ProxyLifecycle {
    /** {@code proxy} connected on the stream {@code connectionId}. */
    default void connected(String connectionId, Proxy proxy) {}

    /** The stream {@code connectionId} of {@code proxy} ended. */
    default void disconnected(String connectionId, Proxy proxy) {}

    /**
     * The agent of {@code proxy} reported its workload's health on the stream {@code connectionId}
     * (istiod's {@code istio.io/health} requests): {@code unhealthy} is the probe's failure, null
     * when healthy.
     */
    default void health(String connectionId, Proxy proxy, @Nullable String unhealthy) {}
  }

  /** Sets who is told about connections (the registry, for auto-registration). */
  public void setProxyLifecycle(ProxyLifecycle lifecycle) {
    this.lifecycle = Objects.requireNonNull(lifecycle, "lifecycle");
  }

  /**
   * A server that is not listening yet.
   *
   * @param initial the push context served until the first push
   * @param pushConcurrency how many connections may be pushed at once (istiod: 100)
   */
  public XdsServer(
      Generators generators,
      XdsMetrics metrics,
      PushContext initial,
      int pushConcurrency,
      Clock clock,
      LongSupplier nanoTime) {
    this.generators = Objects.requireNonNull(generators, "generators");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.pushContext = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
    this.clock = Objects.requireNonNull(clock, "clock");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
    this.cache = new GenerationCache(metrics, XdsConnection.CONTROL_PLANE);
    this.queue = new PushQueue<>(pushConcurrency, "xds-push", this::pushOne);
  }

  /** Starts listening on {@code address} (port 0 picks a free port). */
  public synchronized void start(InetSocketAddress address) throws IOException {
    ServerInterceptor peer =
        new ServerInterceptor() {
          @Override
          public <Q, A> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
            String text =
                remote instanceof InetSocketAddress i
                    ? i.getAddress().getHostAddress() + ":" + i.getPort()
                    : String.valueOf(remote);
            return Contexts.interceptCall(
                Context.current().withValue(PEER, text), call, headers, next);
          }
        };
    server =
        NettyServerBuilder.forAddress(address)
            .addService(ServerInterceptors.intercept(new AdsService(), peer))
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .build()
            .start();
    LOG.log(Level.INFO, "event=xds_listening address=" + address.getHostString() + ":" + port());
  }

  /** The port it listens on. */
  public synchronized int port() {
    return Objects.requireNonNull(server, "not started").getPort();
  }

  /** The push context generators use now. */
  public PushContext pushContext() {
    return pushContext.get();
  }

  /**
   * Makes {@code next} current and queues a push to every connection the request affects: all of
   * them for a full push (those that see one of its scope's hosts for a scoped one), only those
   * watching a changed cluster for an EDS push.
   */
  public void push(PushContext next, PushRequest request) {
    pushContext.set(next);
    int queued = 0;
    for (XdsConnection c : connections.values()) {
      if (request.full() && c.inScope(request.scope(), next)) {
        queue.enqueue(c, request);
        queued++;
      } else if (c.watchesAny(request.edsHosts())) {
        queue.enqueue(c, request.edsOnly());
        queued++;
      }
    }
    int n = queued;
    lastPush =
        new PushStatus(
            next.version(),
            clock.instant(),
            request.full(),
            request.edsHosts(),
            request.reasons(),
            n,
            connections.size());
    LOG.log(
        Level.DEBUG,
        () ->
            "event=push version="
                + next.version()
                + " full="
                + request.full()
                + " eds_hosts="
                + request.edsHosts().size()
                + " connections="
                + n
                + " reasons="
                + request.reasons());
  }

  private void pushOne(XdsConnection c, PushRequest request) {
    try {
      // Hold this worker until the push was handed to gRPC: that is what bounds concurrency.
      c.pushAsync(request).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(Level.WARNING, "event=push_slow connection=" + c + " error=" + e);
    }
  }

  /** Every connected proxy's sync state, sorted by proxy id. */
  public List<SyncStatus> syncStatus() {
    List<SyncStatus> out = new ArrayList<>();
    for (XdsConnection c : connections.values()) {
      try {
        out.add(c.status().get(5, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (ExecutionException | TimeoutException e) {
        LOG.log(Level.WARNING, "event=syncz_slow connection=" + c);
      }
    }
    out.sort(
        java.util.Comparator.comparing(SyncStatus::proxyId)
            .thenComparing(SyncStatus::connectionId));
    return out;
  }

  /** The proxies connected now, one per stream (for the dashboard's metrics scraper). */
  public List<Proxy> connectedProxies() {
    List<Proxy> out = new ArrayList<>();
    for (XdsConnection c : connections.values()) {
      Proxy p = c.proxyOrNull();
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  /** The most recent streams refused for a bad node or request, newest last. */
  public synchronized List<SyncStatus.Rejected> rejected() {
    return List.copyOf(rejected);
  }

  /**
   * What the proxy {@code proxyId} is subscribed to, generated now from the current push context,
   * by type URL; empty if no such proxy is connected.
   */
  public Optional<Map<String, SortedMap<String, com.google.protobuf.Message>>> configDump(
      String proxyId) {
    for (XdsConnection c : connections.values()) {
      Proxy p = c.proxyOrNull();
      if (p == null || !p.id().equals(proxyId)) {
        continue;
      }
      Map<String, ResourceNames> subs;
      try {
        subs = c.subscriptions().get(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      } catch (ExecutionException | TimeoutException e) {
        return Optional.empty();
      }
      PushContext push = pushContext();
      Map<String, SortedMap<String, com.google.protobuf.Message>> out =
          new java.util.LinkedHashMap<>();
      subs.forEach(
          (type, names) ->
              generators
                  .forType(p, type)
                  .ifPresent(g -> out.put(type, new TreeMap<>(g.generate(p, push, names)))));
      return Optional.of(out);
    }
    return Optional.empty();
  }

  /** The last push, if any happened yet. */
  public Optional<PushStatus> lastPush() {
    return Optional.ofNullable(lastPush);
  }

  /**
   * True when every push queued so far has run on its stream: each was sent, or its stream had
   * nothing new. With every stream's types ACKed (see {@link #syncStatus()}), a push is then over
   * for every proxy: what tests wait for instead of sleeping.
   */
  public boolean pushesIdle() {
    return queue.idle();
  }

  /** How many proxies are connected. */
  public int connectionCount() {
    return connections.size();
  }

  /** The metrics this server records. */
  public XdsMetrics metrics() {
    return metrics;
  }

  Generators generators() {
    return generators;
  }

  GenerationCache cache() {
    return cache;
  }

  Clock clock() {
    return clock;
  }

  long nanoTime() {
    return nanoTime.getAsLong();
  }

  void register(XdsConnection c) {
    connections.put(c.id(), c);
    Proxy p = c.proxyOrNull();
    metrics.connected(p == null ? "" : p.istioVersion());
    if (p != null) {
      lifecycle.connected(c.id(), p);
    }
  }

  void health(XdsConnection c, @Nullable String unhealthy) {
    Proxy p = c.proxyOrNull();
    if (p != null && connections.containsKey(c.id())) {
      lifecycle.health(c.id(), p, unhealthy);
    }
  }

  void unregister(XdsConnection c) {
    if (connections.remove(c.id()) != null) {
      queue.remove(c);
      Proxy p = c.proxyOrNull();
      metrics.disconnected(p == null ? "" : p.istioVersion());
      if (p != null) {
        lifecycle.disconnected(c.id(), p);
      }
    }
  }

  synchronized void reject(String peer, String nodeId, String error) {
    if (rejected.size() == REJECTED_KEPT) {
      rejected.removeFirst();
    }
    rejected.addLast(new SyncStatus.Rejected(peer, nodeId, error, clock.instant()));
    LOG.log(
        Level.WARNING,
        "event=xds_node_rejected peer="
            + peer
            + " node=\""
            + nodeId
            + "\" error=\""
            + error
            + "\"");
  }

  @Override
  public void close() {
    Server s;
    synchronized (this) {
      s = server;
      server = null;
    }
    connections.values().forEach(XdsConnection::shutdown);
    queue.close();
    if (s != null) {
      s.shutdown();
      try {
        if (!s.awaitTermination(5, TimeUnit.SECONDS)) {
          s.shutdownNow();
        }
      } catch (InterruptedException e) {
        s.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }

  private final class AdsService
      extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    @Override
    public StreamObserver<DiscoveryRequest> streamAggregatedResources(
        StreamObserver<DiscoveryResponse> out) {
      return XdsConnection.sotw(XdsServer.this, "s" + streamIds.incrementAndGet(), peer(), out);
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
        StreamObserver<DeltaDiscoveryResponse> out) {
      return XdsConnection.delta(XdsServer.this, "d" + streamIds.incrementAndGet(), peer(), out);
    }

    private String peer() {
      String p = PEER.get();
      return p == null ? "unknown" : p;
    }
  }
}
