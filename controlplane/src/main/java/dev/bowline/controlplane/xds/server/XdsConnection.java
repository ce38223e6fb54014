package dev.bowline.controlplane.xds.server;

import dev.bowline.controlplane.model.InvalidNodeException;
import dev.bowline.controlplane.model.NodeParser;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.push.PushRequest;
import dev.bowline.controlplane.xds.gen.ClusterName;
import dev.bowline.controlplane.xds.gen.ResourceNames;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import dev.bowline.controlplane.xds.gen.XdsGenerator;
import io.envoyproxy.envoy.config.core.v3.ControlPlane;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One ADS stream (SotW or delta) and its xDS protocol state: per type the subscription (wildcard or
 * names), what was sent (nonce, version, per-resource versions) and what the proxy said (ACK, or
 * NACK with its error_detail). All state is confined to the stream's {@link
 * SynchronizationContext}: requests from the client and pushes from the push queue are both run
 * there, one at a time.
 */
final class XdsConnection {
  private static final System.Logger LOG = System.getLogger(XdsConnection.class.getName());
  static final ControlPlane CONTROL_PLANE =
      ControlPlane.newBuilder().setIdentifier("bowline").build();

  private final XdsServer server;
  private final String id;
  private final String peer;
  private final boolean delta;
  private final Instant connectedAt;
  private final SynchronizationContext context;
  private final @Nullable StreamObserver<DiscoveryResponse> sotwOut;
  private final @Nullable StreamObserver<DeltaDiscoveryResponse> deltaOut;
  private final Map<String, WatchedResource> watched = new LinkedHashMap<>();
  private volatile @Nullable Proxy proxy;
  private long nonces;
  private boolean closed;

  /** A push that arrived while the client wasn't reading; sent, merged, once it is ready. */
  private @Nullable PushRequest deferred;

  /** Hostnames of the EDS clusters this stream watches; read by the pusher on any thread. */
  private volatile Set<String> edsHosts = Set.of();

  /** The watched EDS cluster names by hostname; confined to the context. */
  private Map<String, List<String>> edsClustersByHost = Map.of();

  private XdsConnection(
      XdsServer server,
      String id,
      String peer,
      boolean delta,
      @Nullable StreamObserver<DiscoveryResponse> sotwOut,
      @Nullable StreamObserver<DeltaDiscoveryResponse> deltaOut) {
    this.server = server;
    this.id = id;
    this.peer = peer;
    this.delta = delta;
    this.sotwOut = sotwOut;
    this.deltaOut = deltaOut;
    this.connectedAt = server.clock().instant();
    this.context =
        new SynchronizationContext(
            (thread, e) ->
                LOG.log(Level.ERROR, "event=xds_stream_error connection=" + id + " error=" + e, e));
  }

  static StreamObserver<DiscoveryRequest> sotw(
      XdsServer server, String id, String peer, StreamObserver<DiscoveryResponse> out) {
    XdsConnection c = new XdsConnection(server, id, peer, false, out, null);
    c.watchReadiness(out);
    return c.inbound(DiscoveryRequest::getNode, c::onSotw);
  }

  static StreamObserver<DeltaDiscoveryRequest> delta(
      XdsServer server, String id, String peer, StreamObserver<DeltaDiscoveryResponse> out) {
    XdsConnection c = new XdsConnection(server, id, peer, true, null, out);
    c.watchReadiness(out);
    return c.inbound(DeltaDiscoveryRequest::getNode, c::onDelta);
  }

  private @Nullable ServerCallStreamObserver<?> flow;

  /**
   * Flow control: pushes to a client that isn't reading (gRPC's outbound buffer is full) are held
   * back and merged, so a slow proxy costs at most one pending push, not a queue of responses.
   */
  private void watchReadiness(StreamObserver<?> out) {
    if (out instanceof ServerCallStreamObserver<?> s) {
      flow = s;
      s.setOnReadyHandler(
          () ->
              context.execute(
                  () -> {
                    PushRequest r = deferred;
                    if (r != null && !closed && s.isReady()) {
                      deferred = null;
                      push(r);
                    }
                  }));
    }
  }

  /** A request that breaks the protocol: the stream ends with this status. */
  private static final class BadRequest extends Exception {
    final Status status;

    BadRequest(Status status) {
      super(status.getDescription(), null, false, false);
      this.status = status;
    }
  }

  private interface Handler<R> {
    void handle(R request) throws BadRequest;
  }

  private <R> StreamObserver<R> inbound(Function<R, Node> node, Handler<R> handler) {
    return new StreamObserver<>() {
      @Override
      public void onNext(R request) {
        context.execute(
            () -> {
              if (closed) {
                return;
              }
              try {
                if (proxy == null) {
                  start(node.apply(request));
                }
                handler.handle(request);
              } catch (BadRequest e) {
                fail(e.status);
              }
            });
      }

      @Override
      public void onError(Throwable t) {
        context.execute(() -> close("client error: " + Status.fromThrowable(t)));
      }

      @Override
      public void onCompleted() {
        context.execute(
            () -> {
              if (!closed) {
                close("client closed the stream");
                completeOutbound();
              }
            });
      }
    };
  }

  private void start(Node node) throws BadRequest {
    if (node.getId().isEmpty() && node.getMetadata().getFieldsCount() == 0) {
      server.reject(peer, "", "the first request carries no node");
      throw new BadRequest(
          Status.INVALID_ARGUMENT.withDescription(
              "the first request on a stream must carry the node"));
    }
    try {
      proxy = NodeParser.parse(node);
    } catch (InvalidNodeException e) {
      server.reject(peer, node.getId(), e.getMessage());
      throw new BadRequest(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
    }
    LOG.log(
        Level.INFO,
        () ->
            "event=xds_connected connection="
                + id
                + " proxy="
                + proxy.id()
                + " peer="
                + peer
                + " protocol="
                + (delta ? "delta" : "sotw")
                + " generator="
                + proxy.generator());
    server.register(this);
  }

  private Proxy proxy() {
    return Objects.requireNonNull(proxy, "proxy");
  }

  /**
   * Whether a full push limited to {@code scope} concerns this proxy: always without a scope, for
   * gateways (a VirtualService bound to a gateway names hosts that are no services) and before the
   * proxy is known; else when one of the services it sees matches a host of the scope (istiod's
   * {@code SidecarScope.DependsOnConfig}).
   */
  boolean inScope(dev.bowline.controlplane.push.@Nullable PushScope scope, PushContext push) {
    Proxy p = proxy;
    if (scope == null || p == null || p.type() != dev.bowline.controlplane.model.NodeType.SIDECAR) {
      return true;
    }
    for (dev.bowline.controlplane.registry.Service s : push.visibleServices(p)) {
      for (String host : scope.hosts()) {
        if (dev.bowline.controlplane.push.PushScope.covers(host, s.hostname())) {
          return true;
        }
      }
    }
    return false;
  }

  String id() {
    return id;
  }

  /** The node id, or empty before the first request. */
  String proxyId() {
    Proxy p = proxy;
    return p == null ? "" : p.id();
  }

  /** Whether this stream watches an EDS cluster of any of {@code hosts}. Any thread. */
  boolean watchesAny(Set<String> hosts) {
    Set<String> watched = edsHosts;
    // Iterate the smaller set: a change names a few hosts, a proxy may watch thousands.
    Set<String> small = hosts.size() <= watched.size() ? hosts : watched;
    Set<String> large = small == hosts ? watched : hosts;
    for (String h : small) {
      if (large.contains(h)) {
        return true;
      }
    }
    return false;
  }

  private XdsGenerator generator(String typeUrl) throws BadRequest {
    if (typeUrl.isEmpty()) {
      throw new BadRequest(Status.INVALID_ARGUMENT.withDescription("type_url is empty"));
    }
    XdsGenerator g =
        server
            .generators()
            .forType(proxy(), typeUrl)
            .orElseThrow(
                () ->
                    new BadRequest(
                        Status.INVALID_ARGUMENT.withDescription(
                            "type_url "
                                + typeUrl
                                + " is not served by this control plane (serves "
                                + TypeUrls.PUSH_ORDER
                                + ")")));
    return g;
  }

  // ---- SotW ----

  /**
   * istiod's workload health report type ({@code v3.HealthInfoType}): the agent sends a request of
   * this type, with {@code error_detail} when its probe fails, on the proxy's stream. Nothing is
   * answered.
   */
  static final String HEALTH_INFO = "type.googleapis.com/istio.v1.HealthInformation";

  private void onSotw(DiscoveryRequest req) throws BadRequest {
    String type = req.getTypeUrl();
    if (type.equals(HEALTH_INFO)) {
      server.health(this, req.hasErrorDetail() ? req.getErrorDetail().getMessage() : null);
      return;
    }
    generator(type);
    WatchedResource w = watched.get(type);
    String nonce = req.getResponseNonce();
    List<com.google.protobuf.ByteString> raw = req.getResourceNamesList().asByteStringList();
    if (w != null
        && !nonce.isEmpty()
        && nonce.equals(w.sentNonce)
        && !req.hasErrorDetail()
        && raw.equals(w.rawNames)) {
      // The common case, an ACK repeating the subscription (SotW ACKs carry every name again):
      // compare the raw names instead of decoding and sorting them.
      ack(w, nonce, req.getVersionInfo());
      return;
    }
    Set<String> names = new TreeSet<>(req.getResourceNamesList());
    boolean star = names.remove("*");
    if (w == null || nonce.isEmpty()) {
      boolean legacyWildcard =
          names.isEmpty() && TypeUrls.wildcardByDefault(type) && (w == null || w.wildcard);
      if (w == null) {
        w = new WatchedResource(type);
        watched.put(type, w);
      }
      w.wildcard = star || legacyWildcard;
      w.names = names;
      w.request = null;
      w.rawNames = List.copyOf(raw);
      updateEdsHosts();
      respond(w, server.pushContext(), null, true);
      return;
    }
    if (!nonce.equals(w.sentNonce)) {
      logStaleNonce(type, nonce);
      return;
    }
    if (req.hasErrorDetail()) {
      nack(w, nonce, req.getVersionInfo(), req.getErrorDetail().getMessage());
      return;
    }
    ack(w, nonce, req.getVersionInfo());
    boolean wildcard = star || (names.isEmpty() && w.wildcard);
    w.rawNames = List.copyOf(raw);
    if (wildcard != w.wildcard || !names.equals(w.names)) {
      w.wildcard = wildcard;
      w.names = names;
      w.request = null;
      updateEdsHosts();
      respond(w, server.pushContext(), null, true);
    }
  }

  private void logStaleNonce(String type, String nonce) {
    LOG.log(
        Level.DEBUG,
        () ->
            "event=xds_stale_nonce proxy="
                + proxyId()
                + " type="
                + TypeUrls.shortName(type)
                + " nonce="
                + nonce);
  }

  // ---- delta ----

  private void onDelta(DeltaDiscoveryRequest req) throws BadRequest {
    String type = req.getTypeUrl();
    if (type.equals(HEALTH_INFO)) {
      server.health(this, req.hasErrorDetail() ? req.getErrorDetail().getMessage() : null);
      return;
    }
    generator(type);
    WatchedResource w = watched.get(type);
    boolean first = w == null;
    if (w == null) {
      w = new WatchedResource(type);
      watched.put(type, w);
      w.wildcard = req.getResourceNamesSubscribeCount() == 0 && TypeUrls.wildcardByDefault(type);
      w.ownSent().putAll(req.getInitialResourceVersionsMap());
    }
    String nonce = req.getResponseNonce();
    if (!nonce.isEmpty()) {
      if (!nonce.equals(w.sentNonce)) {
        logStaleNonce(type, nonce);
      } else if (req.hasErrorDetail()) {
        nack(w, nonce, w.sentVersion, req.getErrorDetail().getMessage());
      } else {
        ack(w, nonce, w.sentVersion);
      }
    }
    boolean changed = first;
    for (String s : req.getResourceNamesSubscribeList()) {
      if (s.equals("*")) {
        changed |= !w.wildcard;
        w.wildcard = true;
      } else {
        changed |= w.names.add(s);
      }
    }
    for (String u : req.getResourceNamesUnsubscribeList()) {
      if (u.equals("*")) {
        changed |= w.wildcard;
        w.wildcard = false;
      } else if (w.names.remove(u)) {
        w.missing.remove(u);
        if (!w.wildcard) {
          w.ownSent().remove(u);
        }
        changed = true;
      }
    }
    if (changed) {
      w.request = null;
      updateEdsHosts();
      respond(w, server.pushContext(), null, first);
    }
  }

  // ---- ACK / NACK ----

  private void ack(WatchedResource w, String nonce, @Nullable String version) {
    w.ackedNonce = nonce;
    w.ackedVersion = version;
  }

  private void nack(WatchedResource w, String nonce, @Nullable String version, String error) {
    w.nackNonce = nonce;
    w.nackError = error;
    w.nackAt = server.clock().instant();
    server.metrics().rejected(w.typeUrl);
    LOG.log(
        Level.WARNING,
        "event=xds_nack proxy="
            + proxyId()
            + " type="
            + TypeUrls.shortName(w.typeUrl)
            + " nonce="
            + nonce
            + " version="
            + version
            + " error=\""
            + error
            + "\"");
  }

  // ---- pushes ----

  /** Runs {@code request} on this stream's context; the future completes when it was sent. */
  CompletableFuture<Void> pushAsync(PushRequest request) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    context.execute(
        () -> {
          try {
            push(request);
          } finally {
            done.complete(null);
          }
        });
    return done;
  }

  private void push(PushRequest request) {
    if (closed || proxy == null) {
      return;
    }
    ServerCallStreamObserver<?> f = flow;
    if (f != null && !f.isReady()) {
      deferred = deferred == null ? request : deferred.merge(request);
      return;
    }
    PushContext push = server.pushContext();
    boolean sent = false;
    for (String type : TypeUrls.PUSH_ORDER) {
      WatchedResource w = watched.get(type);
      if (w == null) {
        continue;
      }
      if (request.pushesType(type)) {
        sent |= respond(w, push, null, false);
      } else if (type.equals(TypeUrls.ENDPOINT) && !request.edsHosts().isEmpty()) {
        Set<String> only = new TreeSet<>();
        for (String host : request.edsHosts()) {
          only.addAll(edsClustersByHost.getOrDefault(host, List.of()));
        }
        if (!only.isEmpty()) {
          sent |= respond(w, push, only, false);
        }
      }
    }
    if (sent) {
      server.metrics().converged((server.nanoTime() - request.startNanos()) / 1e9);
    }
  }

  /**
   * Generates and sends one type. {@code only} limits an EDS push to the clusters that changed;
   * {@code force} sends even if nothing changed (the answer to a request). Returns whether it sent.
   */
  private boolean respond(
      WatchedResource w, PushContext push, @Nullable Set<String> only, boolean force) {
    long t0 = server.nanoTime();
    XdsGenerator generator;
    try {
      generator = generator(w.typeUrl);
    } catch (BadRequest e) {
      return false;
    }
    ResourceNames names = only != null ? ResourceNames.of(only) : w.request();
    Generated generated = server.cache().get(proxy(), push, w.typeUrl, names, generator);
    SortedMap<String, GeneratedResource> resources = generated.resources();
    Map<String, String> present = generated.versions(); // hashed: cheaper lookups than the tree
    Set<String> missing = Set.of();
    for (String n : names.names()) {
      if (!present.containsKey(n)) {
        if (missing.isEmpty()) {
          missing = new TreeSet<>();
        }
        missing.add(n);
      }
    }
    long bytes;
    String nonce;
    if (delta) {
      List<Resource> changed = new ArrayList<>();
      for (GeneratedResource r : resources.values()) {
        if (!r.version().equals(w.sent.get(r.name()))) {
          changed.add(r.delta());
        }
      }
      List<String> removed = new ArrayList<>();
      // What the client has and we no longer do; an EDS push only looks at its few clusters.
      for (String name : only != null ? only : w.sent.keySet()) {
        if (w.sent.containsKey(name) && !present.containsKey(name)) {
          removed.add(name);
        }
      }
      for (String name : missing) {
        if (!w.sent.containsKey(name) && !w.missing.contains(name)) {
          removed.add(name); // tells the client the resource does not exist
        }
      }
      if (changed.isEmpty() && removed.isEmpty() && !force) {
        return false;
      }
      nonce = nextNonce();
      DeltaDiscoveryResponse response =
          DeltaDiscoveryResponse.newBuilder()
              .setSystemVersionInfo(Long.toString(push.version()))
              .setTypeUrl(w.typeUrl)
              .setNonce(nonce)
              .addAllResources(changed)
              .addAllRemovedResources(removed)
              .setControlPlane(CONTROL_PLANE)
              .build();
      Objects.requireNonNull(deltaOut).onNext(response);
      bytes = response.getSerializedSize();
      Map<String, String> sent = w.ownSent();
      for (Resource r : changed) {
        sent.put(r.getName(), r.getVersion());
      }
      removed.forEach(sent::remove);
    } else {
      Map<String, String> versions = generated.versions();
      Map<String, String> scope = w.sent;
      if (only != null) {
        scope = new LinkedHashMap<>();
        for (String n : only) {
          String v = w.sent.get(n);
          if (v != null) {
            scope.put(n, v);
          }
        }
      }
      if (!force && versions.equals(scope)) {
        return false;
      }
      nonce = nextNonce();
      // The response equivalent streams share, with this stream's nonce.
      DiscoveryResponse built = generated.sotw().toBuilder().setNonce(nonce).build();
      Objects.requireNonNull(sotwOut).onNext(built);
      bytes = built.getSerializedSize();
      if (only == null) {
        w.sent = versions;
        w.sentShared = true;
      } else {
        Map<String, String> sent = w.ownSent();
        only.forEach(sent::remove);
        sent.putAll(versions);
      }
    }
    w.sentNonce = nonce;
    w.sentVersion = Long.toString(push.version());
    for (String name : missing) {
      if (!w.missing.contains(name)) {
        LOG.log(
            Level.WARNING,
            "event=xds_resource_missing proxy="
                + proxyId()
                + " type="
                + TypeUrls.shortName(w.typeUrl)
                + " name="
                + name
                + " note=no such resource in the mesh; the client will wait for it");
      }
    }
    if (only == null) {
      w.missing = missing.isEmpty() ? new TreeSet<>() : missing;
    } else {
      w.missing.removeAll(only);
      w.missing.addAll(missing);
    }
    server.metrics().pushed(w.typeUrl, (server.nanoTime() - t0) / 1e9, bytes);
    return true;
  }

  private String nextNonce() {
    return id + "-" + (++nonces);
  }

  private void updateEdsHosts() {
    WatchedResource eds = watched.get(TypeUrls.ENDPOINT);
    if (eds == null) {
      edsHosts = Set.of();
      edsClustersByHost = Map.of();
      return;
    }
    Map<String, List<String>> byHost = new java.util.HashMap<>();
    for (String n : eds.names) {
      ClusterName.parse(n)
          .ifPresent(c -> byHost.computeIfAbsent(c.host(), h -> new ArrayList<>()).add(n));
    }
    edsClustersByHost = byHost;
    edsHosts = Set.copyOf(byHost.keySet());
  }

  // ---- lifecycle and status ----

  private void fail(Status status) {
    LOG.log(
        Level.WARNING,
        "event=xds_stream_refused connection="
            + id
            + " proxy="
            + proxyId()
            + " peer="
            + peer
            + " status="
            + status.getCode()
            + " error=\""
            + status.getDescription()
            + "\"");
    close("refused: " + status.getDescription());
    if (sotwOut != null) {
      sotwOut.onError(status.asRuntimeException());
    } else {
      Objects.requireNonNull(deltaOut).onError(status.asRuntimeException());
    }
  }

  private void completeOutbound() {
    if (sotwOut != null) {
      sotwOut.onCompleted();
    } else {
      Objects.requireNonNull(deltaOut).onCompleted();
    }
  }

  private void close(String why) {
    if (closed) {
      return;
    }
    closed = true;
    if (proxy != null) {
      LOG.log(
          Level.INFO,
          () ->
              "event=xds_disconnected connection="
                  + id
                  + " proxy="
                  + proxyId()
                  + " reason=\""
                  + why
                  + "\"");
      server.unregister(this);
    }
  }

  /** Ends the stream from the server side (shutdown). */
  void shutdown() {
    context.execute(
        () -> {
          if (!closed) {
            close("server shutting down");
            completeOutbound();
          }
        });
  }

  /** This stream's proxy, or null before its first request. */
  @Nullable Proxy proxyOrNull() {
    return proxy;
  }

  /** The sync state, computed on the stream's context. */
  CompletableFuture<SyncStatus> status() {
    CompletableFuture<SyncStatus> out = new CompletableFuture<>();
    context.execute(() -> out.complete(statusNow()));
    return out;
  }

  /** What each watched type's subscription is, computed on the stream's context. */
  CompletableFuture<Map<String, ResourceNames>> subscriptions() {
    CompletableFuture<Map<String, ResourceNames>> out = new CompletableFuture<>();
    context.execute(
        () -> {
          Map<String, ResourceNames> m = new LinkedHashMap<>();
          watched.forEach((t, w) -> m.put(t, new ResourceNames(w.wildcard, w.names)));
          out.complete(m);
        });
    return out;
  }

  private SyncStatus statusNow() {
    Proxy p = proxy();
    Map<String, SyncStatus.TypeStatus> types = new LinkedHashMap<>();
    for (String t : TypeUrls.PUSH_ORDER) {
      WatchedResource w = watched.get(t);
      if (w == null) {
        continue;
      }
      types.put(
          TypeUrls.shortName(t),
          new SyncStatus.TypeStatus(
              w.status(),
              w.wildcard,
              List.copyOf(w.names),
              w.sentNonce,
              w.sentVersion,
              w.ackedNonce,
              w.ackedVersion,
              w.sent.size(),
              List.copyOf(w.missing),
              w.nackError,
              w.nackAt));
    }
    return new SyncStatus(
        id,
        p.id(),
        p.namespace(),
        p.clusterId(),
        p.istioVersion(),
        p.generator(),
        peer,
        delta ? "delta" : "sotw",
        connectedAt,
        types);
  }

  @Override
  public String toString() {
    return id + "(" + proxyId() + ")";
  }
}
