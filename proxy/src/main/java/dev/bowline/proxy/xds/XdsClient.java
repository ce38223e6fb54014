package dev.bowline.proxy.xds;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.config.HttpConnectionManagerConfig;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.config.RouteTable;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * An ADS client, State of the World or delta ({@code DELTA_GRPC}). LDS and CDS are wildcard
 * subscriptions; RDS and EDS follow the names the accepted listeners and clusters refer to. Each
 * response is parsed resource by resource: good resources are taken, a bad one keeps its last good
 * version and the response is NACKed with an {@code error_detail} naming type, resource and field.
 * A listener is served once its route configuration arrived, a cluster once its endpoints did
 * (warming); until then a previous version keeps serving. The stream reconnects with exponential
 * backoff and re-subscribes.
 *
 * <p>All state is confined to {@code executor}, a single thread.
 */
public final class XdsClient implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(XdsClient.class.getName());
  static final String LDS = ListenerParser.TYPE_URL;
  static final String RDS = RouteConfigParser.TYPE_URL;
  static final String CDS = ClusterParser.TYPE_URL;
  static final String EDS = EndpointParser.TYPE_URL;
  static final String SDS = SecretParser.TYPE_URL;

  private final Node node;
  private final ManagedChannel channel;
  private final ScheduledExecutorService executor;
  private final Consumer<XdsState> publish;
  private final Clock clock;
  private final RandomGenerator random;
  private final Map<String, TypeState<?>> types = new LinkedHashMap<>();
  private final boolean delta;

  /**
   * Reports to send on the stream by type URL (the failure text, empty when fine), sent again on
   * every new stream after its subscriptions; confined to the executor.
   */
  private final Map<String, String> reports = new java.util.LinkedHashMap<>();

  private @Nullable StreamObserver<DiscoveryRequest> requests;
  private @Nullable StreamObserver<DeltaDiscoveryRequest> deltaRequests;
  private int failures;
  private boolean closed;
  private XdsState published = XdsState.empty();
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final dev.bowline.proxy.tls.SecretStore secrets;

  /**
   * How long a changed route table waits for a cluster CDS has not named yet before it is taken
   * anyway: Envoy's default {@code initial_fetch_timeout}.
   */
  static final Duration HOLD_LIMIT = Duration.ofSeconds(15);

  private final Duration holdLimit = HOLD_LIMIT;

  /**
   * How long the first warming (the endpoints of the first CDS answer's EDS clusters, the routes of
   * the first LDS answer's listeners) may keep the proxy not ready after LDS and CDS have both
   * answered: Envoy's default {@code initial_fetch_timeout}, after which its init manager goes on.
   */
  static final Duration INITIAL_FETCH_TIMEOUT = Duration.ofSeconds(15);

  /** When LDS and CDS had both answered for the first time (clock millis), or -1. */
  private long firstAnsweredAt = -1;

  /**
   * The publication at {@link #INITIAL_FETCH_TIMEOUT} while the first answers warm; cancelled once
   * initialised, so the idle config thread can end (decision 0037 addendum 8).
   */
  private java.util.concurrent.@Nullable ScheduledFuture<?> initialTimer;

  /** Per type URL: parser, subscription, last accepted version, nonce, accepted resources. */
  private static final class TypeState<R> {
    final ResourceParser<?, R> parser;
    final boolean wildcard;
    Set<String> names = new TreeSet<>();
    String version = "";
    String nonce = "";
    final Map<String, R> accepted = new HashMap<>();

    /**
     * Per accepted name, what the config dump shows. Changed only through {@link #putProtos},
     * {@link #removeProto} and {@link #retainProtos}, so the immutable copy each publication hands
     * on ({@link #protosCopy}) is made once per change of this type, not per publication: a push's
     * RDS answer no longer copies the 4,000 clusters and endpoints of a big mesh, nor makes a key
     * per resource (decision 0004, session 16 addendum push13).
     */
    private final Map<String, XdsState.Accepted> protos = new HashMap<>();

    private @Nullable Map<String, XdsState.Accepted> protosCopy = Map.of();

    XdsState.@Nullable Accepted proto(String name) {
      return protos.get(name);
    }

    void putProtos(Map<String, XdsState.Accepted> more) {
      if (!more.isEmpty()) {
        protos.putAll(more);
        protosCopy = null;
      }
    }

    void removeProto(String name) {
      if (protos.remove(name) != null) {
        protosCopy = null;
      }
    }

    void retainProtos(Set<String> names) {
      if (protos.keySet().retainAll(names)) {
        protosCopy = null;
      }
    }

    /** An immutable copy of the accepted protos by name, the same object until they change. */
    Map<String, XdsState.Accepted> protosCopy() {
      var c = protosCopy;
      if (c == null) {
        c = Map.copyOf(protos);
        protosCopy = c;
      }
      return c;
    }

    /** Per accepted name: the SHA-256 of the serialized resource it was last accepted from. */
    final Map<String, com.google.protobuf.ByteString> digests = new HashMap<>();

    /** The digests of the response being applied, kept for the names it finally accepts. */
    final Map<String, com.google.protobuf.ByteString> pendingDigests = new HashMap<>();

    /** While a response is applied: digest of an accepted resource -> its name. */
    final Map<com.google.protobuf.ByteString, String> byDigest = new HashMap<>();

    /**
     * Keeps the digests of the resources a response finally accepted (not of those left out after
     * parsing, such as a listener that cannot bind: its bytes must be checked again if re-sent).
     */
    void commitDigests(Set<String> acceptedNames) {
      for (String name : acceptedNames) {
        var d = pendingDigests.get(name);
        if (d != null) {
          digests.put(name, d);
        }
      }
      pendingDigests.clear();
    }

    /** Indexes the accepted resources by digest before a response is applied. */
    void indexDigests() {
      pendingDigests.clear();
      digests.keySet().retainAll(accepted.keySet());
      byDigest.clear();
      digests.forEach(
          (name, d) -> {
            if (protos.containsKey(name)) {
              byDigest.put(d, name);
            }
          });
    }

    /** The names the last response carried, and those accepted from it (for the stats). */
    Set<String> lastSeen = Set.of();

    Set<String> lastGood = Set.of();

    boolean requested;

    /**
     * A SotW request of this type naming {@link #names} and nothing else, built again only when the
     * names change ({@code names} is replaced then, never changed in place): each request copies it
     * and sets its version and nonce, sharing its name list, whose names are UTF-8 bytes already
     * (written as they are). A push's EDS ACK names every cluster, 2,000 on a big mesh, as SotW
     * requires; building and encoding that list per ACK was ~13% of a push's config thread
     * (decision 0004, session 16 addendum push14).
     */
    private @Nullable DiscoveryRequest namesRequest;

    private @Nullable Set<String> namesRequestOf;

    DiscoveryRequest namesRequest(String typeUrl) {
      DiscoveryRequest r = namesRequest;
      if (r == null || namesRequestOf != names || !r.getTypeUrl().equals(typeUrl)) {
        DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setTypeUrl(typeUrl);
        if (!wildcard) {
          for (String n : names) {
            b.addResourceNamesBytes(com.google.protobuf.ByteString.copyFromUtf8(n));
          }
        }
        r = b.build();
        namesRequest = r;
        namesRequestOf = names;
      }
      return r;
    }

    String lastNack = "";
    int nackRepeats;
    java.util.concurrent.@Nullable ScheduledFuture<?> delayedNack;

    TypeState(ResourceParser<?, R> parser, boolean wildcard) {
      this.parser = parser;
      this.wildcard = wildcard;
    }
  }

  /**
   * A client of the ADS stream on {@code channel} ({@code delta}: the incremental protocol),
   * confined to {@code executor}, that hands each state it accepts to {@code publish} and
   * reconnects with exponential backoff from {@code initialBackoff} up to {@code maxBackoff}. It
   * also takes SDS secrets on the stream ({@code sds_config: {ads: {}}}): it subscribes to exactly
   * the names the accepted listeners and clusters use and keeps {@code secrets} in step (source
   * {@link dev.bowline.proxy.tls.SdsSource.Ads}). Its clusters without an {@code
   * upstream_bind_config} bind as {@code bootstrapBind} (the bootstrap's {@code
   * cluster_manager.upstream_bind_config}; {@link dev.bowline.proxy.config.UpstreamBind#NONE} for
   * none).
   */
  public XdsClient(
      Node node,
      ManagedChannel channel,
      ListenerParser listeners,
      ScheduledExecutorService executor,
      Consumer<XdsState> publish,
      Clock clock,
      RandomGenerator random,
      Duration initialBackoff,
      Duration maxBackoff,
      boolean delta,
      dev.bowline.proxy.tls.SecretStore secrets,
      dev.bowline.proxy.config.UpstreamBind bootstrapBind) {
    this.secrets = secrets;
    this.delta = delta;
    this.node = node;
    this.channel = channel;
    this.executor = executor;
    this.publish = publish;
    this.clock = clock;
    this.random = random;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    types.put(CDS, new TypeState<>(new ClusterParser(listeners.filters(), bootstrapBind), true));
    types.put(EDS, new TypeState<>(new EndpointParser(), false));
    types.put(LDS, new TypeState<>(listeners, true));
    types.put(RDS, new TypeState<>(new RouteConfigParser(listeners.filters()), false));
    types.put(SDS, new TypeState<>(new SecretParser(), false));
  }

  /**
   * Checks each new or changed listener of an LDS response before it is accepted: a reason it
   * cannot be added (its address cannot be bound), or empty. A listener that fails is left out of
   * the update (its last good version, if any, stays) and the response is NACKed naming it, as
   * Envoy's LDS fails the listener whose socket {@code addOrUpdateListener} cannot bind. Set before
   * {@link #start}; runs on the client's executor.
   */
  public void listenerCheck(
      java.util.function.Function<ListenerConfig, java.util.Optional<String>> check) {
    this.listenerCheck = check;
  }

  private java.util.function.@Nullable Function<ListenerConfig, java.util.Optional<String>>
      listenerCheck;

  /**
   * Whether a listener is out since its bind after warming failed (Envoy removed it): an LDS
   * response that names it again, unchanged, checks it as a new one, as Envoy's LDS adds it again.
   * Set before {@link #start}; runs on the client's executor.
   */
  public void listenerOut(java.util.function.Predicate<String> out) {
    this.listenerOut = out;
  }

  private java.util.function.@Nullable Predicate<String> listenerOut;

  /**
   * Whether a cluster not yet serving has initialised beyond its endpoints (its first round of
   * active health checks, as Envoy's cluster initialises only then); until it says so the cluster
   * warms: it takes no traffic and holds the proxy's initialisation. Set before {@link #start};
   * runs on the client's executor. Call {@link #republish} when an answer may have changed.
   */
  public void clusterWarm(
      java.util.function.BiPredicate<ClusterConfig, dev.bowline.proxy.config.Endpoints> warm) {
    this.clusterWarm = warm;
  }

  private java.util.function.@Nullable BiPredicate<
          ClusterConfig, dev.bowline.proxy.config.Endpoints>
      clusterWarm;

  /** Publishes again on the client's executor (a warming cluster may have initialised). */
  public void republish() {
    if (!closed) {
      try {
        executor.execute(
            () -> {
              if (!closed) {
                publish();
              }
            });
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        // the client is closing: nothing to publish to
      }
    }
  }

  /** Counts into {@code stats} (Envoy's xDS and manager stats); set before {@link #start}. */
  public void stats(XdsStats stats) {
    this.stats = stats;
  }

  private @Nullable XdsStats stats;

  /** Opens the stream and subscribes; returns at once. */
  public void start() {
    if (stats != null) {
      stats.started();
    }
    executor.execute(this::connect);
  }

  private void connect() {
    if (closed) {
      return;
    }
    var stub = AggregatedDiscoveryServiceGrpc.newStub(channel);
    if (delta) {
      connectDelta(stub);
      return;
    }
    var responses = new Responses<DiscoveryResponse>(this::onResponse);
    requests = stub.streamAggregatedResources(responses);
    responses.stream = requests;
    boolean first = true;
    for (var e : types.entrySet()) {
      TypeState<?> t = e.getValue();
      t.nonce = "";
      t.requested = false;
      if (t.wildcard || !t.names.isEmpty()) {
        send(e.getKey(), t, null, first);
        first = false;
      }
    }
    reports.forEach(this::sendReport);
  }

  private void connectDelta(AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub stub) {
    var responses = new Responses<DeltaDiscoveryResponse>(this::onDeltaResponse);
    deltaRequests = stub.deltaAggregatedResources(responses);
    responses.stream = deltaRequests;
    for (var e : types.entrySet()) {
      TypeState<?> t = e.getValue();
      t.nonce = "";
      if (t.wildcard || !t.names.isEmpty()) {
        // (Re)subscribe, telling the server which versions we hold so it can skip them
        Map<String, String> held = new HashMap<>();
        t.protosCopy().values().forEach(a -> held.put(a.name(), a.version()));
        var b =
            DeltaDiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(e.getKey())
                .addAllResourceNamesSubscribe(t.wildcard ? List.of("*") : t.names)
                .putAllInitialResourceVersions(held);
        java.util.Objects.requireNonNull(deltaRequests).onNext(b.build());
      }
    }
    reports.forEach(this::sendReport);
  }

  /**
   * Sends a request of {@code typeUrl} that subscribes to nothing and carries {@code error} (empty
   * when there is none) as its {@code error_detail}: a status report for the server, e.g. Istio's
   * workload health ({@code type.googleapis.com/istio.v1.HealthInformation}). The latest report per
   * type is sent again on every new stream. Any thread.
   */
  public void report(String typeUrl, String error) {
    run(
        () -> {
          reports.put(typeUrl, error);
          sendReport(typeUrl, error);
        });
  }

  private void sendReport(String typeUrl, String error) {
    com.google.rpc.Status detail =
        com.google.rpc.Status.newBuilder().setCode(13).setMessage(error).build();
    if (delta) {
      var out = deltaRequests;
      if (out != null) {
        var b = DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl);
        out.onNext(error.isEmpty() ? b.build() : b.setErrorDetail(detail).build());
      }
      return;
    }
    var out = requests;
    if (out != null) {
      var b = DiscoveryRequest.newBuilder().setTypeUrl(typeUrl);
      out.onNext(error.isEmpty() ? b.build() : b.setErrorDetail(detail).build());
    }
  }

  /**
   * The responses of one stream, each handled on the executor while that stream is still the
   * current one; its end (error or completion) schedules the next stream.
   */
  private final class Responses<R> implements StreamObserver<R> {
    private final Consumer<R> handler;

    /** The stream's request side, set on the executor as soon as the call has opened it. */
    @Nullable Object stream;

    Responses(Consumer<R> handler) {
      this.handler = handler;
    }

    @Override
    public void onNext(R r) {
      run(
          () -> {
            if (stream == currentStream()) {
              handler.accept(r);
            }
          });
    }

    @Override
    public void onError(Throwable t) {
      run(() -> streamClosed(stream, t.toString()));
    }

    @Override
    public void onCompleted() {
      run(() -> streamClosed(stream, "stream completed"));
    }
  }

  private @Nullable Object currentStream() {
    return delta ? deltaRequests : requests;
  }

  private void run(Runnable task) {
    try {
      executor.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing: nothing left to do
    }
  }

  private void streamClosed(@Nullable Object stream, String why) {
    if (closed || stream != currentStream()) {
      return;
    }
    requests = null;
    deltaRequests = null;
    failures++;
    long base = initialBackoff.toMillis() << Math.min(failures - 1, 20);
    long delay = Math.min(maxBackoff.toMillis(), base);
    delay = delay / 2 + (long) (random.nextDouble() * (delay / 2.0 + 1)); // jitter
    LOG.log(Level.INFO, "event=xds_stream_closed reason=\"{0}\" retry_ms={1}", why, delay);
    if (stats != null) {
      stats.streamFailed();
    }
    executor.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  private void send(String typeUrl, TypeState<?> t, @Nullable String error, boolean withNode) {
    if (delta) {
      StreamObserver<DeltaDiscoveryRequest> out = deltaRequests;
      if (out != null && !t.nonce.isEmpty()) {
        var b = DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setResponseNonce(t.nonce);
        if (error != null) {
          b.setErrorDetail(
              Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(error));
        }
        out.onNext(b.build());
      }
      return;
    }
    StreamObserver<DiscoveryRequest> out = requests;
    if (out == null) {
      return;
    }
    DiscoveryRequest.Builder b =
        t.namesRequest(typeUrl).toBuilder().setVersionInfo(t.version).setResponseNonce(t.nonce);
    if (withNode || !t.requested) {
      b.setNode(node);
    }
    if (error != null) {
      b.setErrorDetail(Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(error));
    }
    t.requested = true;
    out.onNext(b.build());
  }

  private void onDeltaResponse(DeltaDiscoveryResponse r) {
    failures = 0;
    if (stats != null) {
      stats.responded();
    }
    TypeState<?> t = types.get(r.getTypeUrl());
    if (t == null) {
      LOG.log(Level.DEBUG, "event=xds_unknown_type type={0}", r.getTypeUrl());
      return;
    }
    List<String> errors = applyDelta(r, t);
    t.nonce = r.getNonce();
    answer(r.getTypeUrl(), t, errors, r.getSystemVersionInfo());
  }

  private <R> List<String> applyDelta(DeltaDiscoveryResponse r, TypeState<R> t) {
    markSubscriptionsStale(t);
    t.indexDigests();
    List<String> errors = new ArrayList<>();
    long now = clock.millis();
    Set<String> seen = new TreeSet<>();
    Map<String, R> good = new LinkedHashMap<>(); // response order: checkListeners
    Map<String, XdsState.Accepted> goodProtos = new HashMap<>();
    for (var res : r.getResourcesList()) {
      Any any = res.getResource();
      if (!any.getTypeUrl().equals(r.getTypeUrl())) {
        errors.add(
            t.parser.kind()
                + " "
                + res.getName()
                + ": resource of type "
                + any.getTypeUrl()
                + " in a "
                + r.getTypeUrl()
                + " response");
        continue;
      }
      acceptOne(
          t, any, r.getTypeUrl(), res.getVersion(), now, false, seen, good, goodProtos, errors);
    }
    Set<String> removed = Set.copyOf(r.getRemovedResourcesList());
    checkListeners(t, good, goodProtos, name -> !removed.contains(name), errors);
    t.lastSeen = seen;
    t.lastGood = Set.copyOf(good.keySet());
    t.accepted.putAll(good);
    t.putProtos(goodProtos);
    t.commitDigests(good.keySet());
    for (String gone : r.getRemovedResourcesList()) {
      t.accepted.remove(gone);
      t.removeProto(gone);
    }
    return errors;
  }

  private void onResponse(DiscoveryResponse r) {
    failures = 0;
    if (stats != null) {
      stats.responded();
    }
    TypeState<?> t = types.get(r.getTypeUrl());
    if (t == null) {
      LOG.log(Level.DEBUG, "event=xds_unknown_type type={0}", r.getTypeUrl());
      return;
    }
    List<String> errors = apply(r, t);
    t.nonce = r.getNonce();
    answer(r.getTypeUrl(), t, errors, r.getVersionInfo());
  }

  /** ACK or NACK a response, then follow its references and publish what is warm. */
  private void answer(String typeUrl, TypeState<?> t, List<String> errors, String version) {
    if (t.delayedNack != null) {
      t.delayedNack.cancel(false);
      t.delayedNack = null;
    }
    if (errors.isEmpty()) {
      t.version = version;
      t.lastNack = "";
      t.nackRepeats = 0;
      send(typeUrl, t, null, false);
      LOG.log(Level.DEBUG, "event=xds_ack type={0} version={1}", t.parser.kind(), t.version);
    } else {
      String detail = String.join("; ", errors);
      String key = version + "\n" + detail;
      if (key.equals(t.lastNack)) {
        // A server that answers each NACK with the same bad version would make us spin: damp the
        // repeats with exponential backoff (the first NACK of a version goes out at once).
        long delay =
            Math.min(
                maxBackoff.toMillis(), initialBackoff.toMillis() << Math.min(t.nackRepeats++, 20));
        String url = typeUrl;
        t.delayedNack =
            executor.schedule(
                () -> {
                  t.delayedNack = null;
                  send(url, t, detail, false);
                },
                delay,
                TimeUnit.MILLISECONDS);
      } else {
        t.lastNack = key;
        t.nackRepeats = 0;
        send(typeUrl, t, detail, false);
        LOG.log(
            Level.WARNING,
            "event=xds_nack type={0} version={1} error=\"{2}\"",
            t.parser.kind(),
            version,
            detail);
      }
    }
    updateSubscriptions();
    publish();
    if (stats != null) {
      stats.answered(
          typeUrl,
          version,
          !errors.isEmpty(),
          t.lastSeen,
          t.lastGood,
          t.accepted,
          this.<ClusterConfig>type(CDS).accepted.values(),
          this.<ListenerConfig>type(LDS).accepted.values());
    }
  }

  /**
   * Parses one resource of a SotW or delta response into {@code good}/{@code goodProtos}, or an
   * error into {@code errors}. An unchanged resource keeps its runtime object, so nothing
   * downstream sees a change (a listener is not drained because a server re-sent it). With {@code
   * rememberFailedNames} (SotW), a resource that failed to parse still counts as present, so the
   * removal of missing names keeps its last good version.
   */
  private <R> void acceptOne(
      TypeState<R> t,
      Any resource,
      String typeUrl,
      String version,
      long now,
      boolean rememberFailedNames,
      Set<String> seen,
      Map<String, R> good,
      Map<String, XdsState.Accepted> goodProtos,
      List<String> errors) {
    // The bytes of a resource already accepted: its runtime object and proto stay, nothing is
    // parsed, audited or converted again. A SotW server re-sends every cluster (and every
    // endpoint assignment) at each push; Envoy likewise skips a resource whose hash is unchanged.
    com.google.protobuf.ByteString digest = digest(resource.getValue());
    String same = t.byDigest.get(digest);
    if (same != null) {
      R current = t.accepted.get(same);
      XdsState.Accepted before = t.proto(same);
      if (current != null && before != null) {
        if (!seen.add(same)) {
          errors.add(t.parser.kind() + " " + same + ": duplicate name in one response");
          return;
        }
        good.put(same, current);
        goodProtos.put(same, new XdsState.Accepted(typeUrl, same, version, before.proto(), now));
        return;
      }
    }
    try {
      var parsed = t.parser.unpackAndParse(resource);
      if (!seen.add(parsed.name())) {
        errors.add(t.parser.kind() + " " + parsed.name() + ": duplicate name in one response");
        return;
      }
      t.pendingDigests.put(parsed.name(), digest);
      XdsState.Accepted before = t.proto(parsed.name());
      R current = t.accepted.get(parsed.name());
      good.put(
          parsed.name(),
          before != null && current != null && before.proto().equals(parsed.proto())
              ? current
              : parsed.value());
      goodProtos.put(
          parsed.name(),
          new XdsState.Accepted(
              typeUrl, parsed.name(), version, (com.google.protobuf.Message) parsed.proto(), now));
    } catch (ResourceParser.ParseFailure f) {
      errors.add(f.getMessage());
      if (rememberFailedNames && !f.resourceName().isEmpty()) {
        seen.add(f.resourceName());
      }
    }
  }

  private <R> List<String> apply(DiscoveryResponse r, TypeState<R> t) {
    markSubscriptionsStale(t);
    t.indexDigests();
    List<String> errors = new ArrayList<>();
    Map<String, R> good = new LinkedHashMap<>(); // response order: checkListeners
    Map<String, XdsState.Accepted> goodProtos = new HashMap<>();
    Set<String> seen = new TreeSet<>();
    long now = clock.millis();
    // A resource that names nothing (not unpackable, of another type, nameless, or a duplicate
    // name) makes the whole response rejected: under State of the World every name missing from
    // it would be removed, and its missing name may be one that serves. Envoy likewise rejects a
    // response it cannot decode as a whole.
    boolean unattributed = false;
    for (Any any : r.getResourcesList()) {
      Any res = any;
      if (res.getTypeUrl().equals("type.googleapis.com/envoy.service.discovery.v3.Resource")) {
        try {
          res =
              Anys.unpack(
                      res,
                      io.envoyproxy.envoy.service.discovery.v3.Resource.getDescriptor(),
                      io.envoyproxy.envoy.service.discovery.v3.Resource.parser())
                  .getResource();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          errors.add(t.parser.kind() + ": cannot unpack Resource wrapper: " + e.getMessage());
          unattributed = true;
          continue;
        }
      }
      if (!res.getTypeUrl().equals(r.getTypeUrl())) {
        errors.add(
            t.parser.kind()
                + ": resource of type "
                + res.getTypeUrl()
                + " in a "
                + r.getTypeUrl()
                + " response");
        unattributed = true;
        continue;
      }
      int named = seen.size();
      acceptOne(
          t, res, r.getTypeUrl(), r.getVersionInfo(), now, true, seen, good, goodProtos, errors);
      unattributed |= seen.size() == named;
    }
    if (unattributed) {
      t.lastSeen = seen;
      t.lastGood = Set.of();
      return errors;
    }
    checkListeners(t, good, goodProtos, name -> !t.wildcard || seen.contains(name), errors);
    t.lastSeen = seen;
    t.lastGood = Set.copyOf(good.keySet());
    if (t.wildcard) {
      // State of the world: a name missing from the response is removed; a bad one keeps its last
      // good
      t.accepted.keySet().retainAll(seen);
      t.retainProtos(seen);
    }
    t.accepted.putAll(good);
    t.putProtos(goodProtos);
    t.commitDigests(good.keySet());
    return errors;
  }

  private final java.security.MessageDigest sha256 = sha256();

  private static java.security.MessageDigest sha256() {
    try {
      return java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /** SHA-256 of a resource's bytes (on the config thread only: the digest object is reused). */
  private com.google.protobuf.ByteString digest(com.google.protobuf.ByteString bytes) {
    sha256.reset();
    for (java.nio.ByteBuffer b : bytes.asReadOnlyByteBufferList()) {
      sha256.update(b);
    }
    return com.google.protobuf.ByteString.copyFrom(sha256.digest());
  }

  /**
   * Leaves out of an LDS update each new or changed listener that cannot be added, with an error
   * naming it: the others are taken. An unchanged one was checked when it came. Taken in the
   * response's order, as Envoy's LDS adds them after its removals: a listener whose address (of a
   * socket it binds, or any address when it does not bind) another listener already has is a
   * duplicate, where "another" is one that stays (accepted and not removed by this update, in the
   * version accepted before it, as Envoy's active listener keeps its address until its new version
   * warms) or one taken earlier in this update; then {@link #listenerCheck} (its socket can be
   * bound). Envoy: {@code ListenerManagerImpl::setNewOrDrainingSocketFactory}, {@code
   * ListenerImpl::hasDuplicatedAddress} (a port-0 address that binds is never a duplicate).
   */
  private <R> void checkListeners(
      TypeState<R> t,
      Map<String, R> good,
      Map<String, XdsState.Accepted> goodProtos,
      java.util.function.Predicate<String> stays,
      List<String> errors) {
    if (t != types.get(LDS)) {
      return;
    }
    var check = listenerCheck;
    Map<java.net.InetSocketAddress, String> held = new HashMap<>();
    for (var e : t.accepted.entrySet()) {
      if (stays.test(e.getKey()) && e.getValue() instanceof ListenerConfig l && claims(l)) {
        held.putIfAbsent(l.address().toInet(), e.getKey());
      }
    }
    // the version still serving while an accepted one warms keeps its address too (Envoy's active
    // listener stays in its list until the warming one replaces it)
    for (var e : published.listeners().entrySet()) {
      if (stays.test(e.getKey()) && t.accepted.containsKey(e.getKey()) && claims(e.getValue())) {
        held.putIfAbsent(e.getValue().address().toInet(), e.getKey());
      }
    }
    var out = listenerOut;
    var it = good.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!(e.getValue() instanceof ListenerConfig l)
          || (e.getValue() == t.accepted.get(e.getKey())
              && (out == null || !out.test(e.getKey())))) {
        continue; // unchanged, and not out since its bind after warming failed
      }
      String other = claims(l) ? held.get(l.address().toInet()) : null;
      java.util.Optional<String> failure =
          other != null && !other.equals(l.name())
              ? java.util.Optional.of(
                  dev.bowline.proxy.listener.ListenerManager.duplicateAddress(l))
              : check == null ? java.util.Optional.empty() : check.apply(l);
      if (failure.isPresent()) {
        errors.add(t.parser.kind() + " " + e.getKey() + ": " + failure.get());
        it.remove();
        goodProtos.remove(e.getKey());
      } else if (claims(l)) {
        held.putIfAbsent(l.address().toInet(), l.name());
      }
    }
  }

  /** Whether a listener's address may not be another's: Envoy exempts a bound port 0. */
  private static boolean claims(ListenerConfig l) {
    return dev.bowline.proxy.listener.ListenerManager.claimsAddress(l);
  }

  /** LDS and CDS responses may change the names subscribed (RDS, EDS, SDS). */
  private void markSubscriptionsStale(TypeState<?> t) {
    if (t == types.get(LDS) || t == types.get(CDS)) {
      subscriptionsStale = true;
    }
  }

  @SuppressWarnings("unchecked")
  private <R> TypeState<R> type(String url) {
    return (TypeState<R>) types.get(url);
  }

  /**
   * Whether the names {@link #updateSubscriptions} derives may have changed: set when LDS or CDS
   * applied a response or static resources were added. The RDS, EDS and SDS answers of a push do
   * not change what is subscribed, so they skip the walk of every listener and cluster.
   */
  private boolean subscriptionsStale = true;

  private void updateSubscriptions() {
    if (!subscriptionsStale) {
      return;
    }
    subscriptionsStale = false;
    Set<String> routeNames = new TreeSet<>();
    for (ListenerConfig l : this.<ListenerConfig>type(LDS).accepted.values()) {
      rdsNames(l, routeNames);
    }
    Set<String> edsNames = new TreeSet<>();
    for (ClusterConfig c : this.<ClusterConfig>type(CDS).accepted.values()) {
      String eds = c.edsServiceName();
      if (eds != null) {
        edsNames.add(eds);
      }
    }
    // Only what CDS names now: a cluster that still serves after CDS dropped it (a held-back route
    // targets it) keeps its last endpoints without a subscription. Asking for it would stall
    // warming with java-control-plane's SimpleCache, which answers no ADS request naming a
    // resource its snapshot lacks, so the new cluster's endpoints would never come.
    resubscribe(RDS, routeNames);
    resubscribe(EDS, edsNames);
    Set<String> secretNames = new TreeSet<>();
    for (ListenerConfig l : this.<ListenerConfig>type(LDS).accepted.values()) {
      l.filterChains().forEach(c -> c.tls().ifPresent(t -> adsSecrets(t.common(), secretNames)));
      l.defaultChain().flatMap(c -> c.tls()).ifPresent(t -> adsSecrets(t.common(), secretNames));
    }
    for (ClusterConfig c : this.<ClusterConfig>type(CDS).accepted.values()) {
      c.transport().all().forEach(t -> adsSecrets(t.common(), secretNames));
    }
    resubscribe(SDS, secretNames);
  }

  private static void adsSecrets(dev.bowline.proxy.tls.CommonTls tls, Set<String> into) {
    for (var k : tls.sdsSecrets()) {
      if (k.source() instanceof dev.bowline.proxy.tls.SdsSource.Ads) {
        into.add(k.name());
      }
    }
  }

  /**
   * Puts the SDS secrets accepted on this stream into the secret store and takes out those no
   * longer subscribed: the next TLS handshake under them sees the change, open connections keep the
   * context they were made with.
   */
  private void syncSecrets() {
    Map<String, dev.bowline.proxy.tls.Secret> now =
        this.<dev.bowline.proxy.tls.Secret>type(SDS).accepted;
    for (var e : now.entrySet()) {
      secrets.put(
          new dev.bowline.proxy.tls.SecretKey(
              new dev.bowline.proxy.tls.SdsSource.Ads(), e.getKey()),
          e.getValue());
    }
    for (var k : secrets.all().keySet()) {
      if (k.source() instanceof dev.bowline.proxy.tls.SdsSource.Ads && !now.containsKey(k.name())) {
        secrets.remove(k);
      }
    }
  }

  /** Subscribes RDS names of static listeners too (they may use RDS over ADS). */
  public void addStaticListeners(List<ListenerConfig> staticListeners) {
    executor.execute(
        () -> {
          staticRouteNames.clear();
          for (ListenerConfig l : staticListeners) {
            rdsNames(l, staticRouteNames);
          }
          subscriptionsStale = true;
          updateSubscriptions();
        });
  }

  /** Subscribes EDS names of static EDS clusters; routes may target static clusters at once. */
  public void addStaticClusters(List<ClusterConfig> staticClusters) {
    executor.execute(
        () -> {
          staticEdsNames.clear();
          staticClusterNames.clear();
          for (ClusterConfig c : staticClusters) {
            staticClusterNames.add(c.name());
            c.edsName().ifPresent(staticEdsNames::add);
          }
          subscriptionsStale = true;
          updateSubscriptions();
        });
  }

  private final Set<String> staticRouteNames = new TreeSet<>();
  private final Set<String> staticEdsNames = new TreeSet<>();
  private final Set<String> staticClusterNames = new TreeSet<>();
  private final Map<String, Held> held = new HashMap<>();

  /** Clusters CDS dropped that a served route table still targets, and since when. */
  private final Map<String, Long> kept = new HashMap<>();

  private static void rdsNames(ListenerConfig l, Set<String> into) {
    l.filterChains()
        .forEach(
            c -> {
              if (c.filter() instanceof HttpConnectionManagerConfig h
                  && h.routes() instanceof HttpConnectionManagerConfig.RdsRoutes r) {
                into.add(r.name());
              }
            });
    l.defaultChain()
        .ifPresent(
            c -> {
              if (c.filter() instanceof HttpConnectionManagerConfig h
                  && h.routes() instanceof HttpConnectionManagerConfig.RdsRoutes r) {
                into.add(r.name());
              }
            });
  }

  private void resubscribe(String url, Set<String> wanted) {
    Set<String> all = new TreeSet<>(wanted);
    all.addAll(url.equals(RDS) ? staticRouteNames : url.equals(EDS) ? staticEdsNames : Set.of());
    TypeState<?> t = types.get(url);
    if (all.equals(t.names)) {
      return;
    }
    Set<String> added = new TreeSet<>(all);
    added.removeAll(t.names);
    Set<String> removed = new TreeSet<>(t.names);
    removed.removeAll(all);
    t.names = all;
    t.accepted.keySet().retainAll(all); // unsubscribed resources are gone
    t.retainProtos(all);
    if (delta) {
      StreamObserver<DeltaDiscoveryRequest> out = deltaRequests;
      if (out != null) {
        out.onNext(
            DeltaDiscoveryRequest.newBuilder()
                .setTypeUrl(url)
                .addAllResourceNamesSubscribe(added)
                .addAllResourceNamesUnsubscribe(removed)
                .build());
      }
    } else {
      send(url, t, null, false);
    }
  }

  private void publish() {
    syncSecrets();
    published = warm();
    if (stats != null) {
      stats.published(
          published,
          this.<ClusterConfig>type(CDS).accepted.values(),
          this.<ListenerConfig>type(LDS).accepted.values(),
          !types.get(CDS).nonce.isEmpty());
    }
    publish.accept(published);
  }

  /**
   * The state that may serve now: clusters with their endpoints, route tables whose clusters are
   * all known and warm, listeners whose route tables are in.
   */
  private XdsState warm() {
    Map<String, Endpoints> endpoints = new HashMap<>(this.<Endpoints>type(EDS).accepted);
    // Clusters first: an EDS cluster serves once its endpoints are in; until then its previous
    // version (if any) keeps serving.
    Map<String, ClusterConfig> clusters = new HashMap<>();
    Set<String> warming = new TreeSet<>();
    warmClusters(endpoints, clusters, warming);
    long now = clock.millis();
    Map<String, RouteTable> routes = new HashMap<>();
    warmRoutes(now, clusters, warming, routes);
    keepRoutesOfWarmingListeners(routes);
    keepTargetedClusters(now, routes, clusters);
    keepEndpointsOfServingClusters(clusters, endpoints);
    // Listeners last: served once their RDS route tables are in.
    Map<String, ListenerConfig> listeners = new HashMap<>();
    Set<String> listenersWarming = new TreeSet<>();
    warmListeners(routes, listeners, listenersWarming);
    forgetTargetsOfGoneTables(routes);
    return new XdsState(
        sameOr(listeners, published.listeners()),
        sameOr(routes, published.routes()),
        sameOr(clusters, published.clusters()),
        sameOr(endpoints, published.endpoints()),
        acceptedProtos(),
        published.initialized() || initialized(warming, listenersWarming));
  }

  /**
   * {@code was} (the map last published, immutable) when {@code next} holds the same objects under
   * the same names, else {@code next}: the new state then shares the map (no copy of 2,000 entries
   * per publication), and whoever follows a map by identity, as {@code Proxy}'s SDS follower, sees
   * that nothing in it changed.
   */
  private static <V> Map<String, V> sameOr(Map<String, V> next, Map<String, V> was) {
    if (next.size() != was.size()) {
      return next;
    }
    for (var e : next.entrySet()) {
      if (was.get(e.getKey()) != e.getValue()) {
        return next;
      }
    }
    return was;
  }

  // warm()'s steps are methods of their own: the config thread runs each once per response over
  // every resource, so C2 compiles them (often on stack, mid-loop) and recompiles them when a
  // branch first taken deoptimises them; one method of all the steps cost C2 seconds per push
  // with 2,000 clusters (decision 0004, session 14 addendum push11).

  private void warmClusters(
      Map<String, Endpoints> endpoints, Map<String, ClusterConfig> clusters, Set<String> warming) {
    for (ClusterConfig c : this.<ClusterConfig>type(CDS).accepted.values()) {
      ClusterConfig old = published.clusters().get(c.name());
      String eds = c.edsServiceName();
      if ((eds == null || endpoints.containsKey(eds))
          && (old != null || initialised(c, endpoints))) {
        clusters.put(c.name(), c);
      } else if (old != null) {
        clusters.put(c.name(), old);
      } else {
        warming.add(c.name());
      }
    }
  }

  /**
   * Whether new cluster {@code c} has initialised beyond its endpoints (see {@link #clusterWarm}).
   */
  private boolean initialised(ClusterConfig c, Map<String, Endpoints> endpoints) {
    var warm = clusterWarm;
    if (warm == null || c.policy().healthCheck().isEmpty()) {
      return true;
    }
    String eds = c.edsServiceName();
    Endpoints e = eds != null ? endpoints.get(eds) : staticEndpoints(c);
    return e == null || warm.test(c, e);
  }

  /** The endpoints a cluster names itself (static), or null (DNS: known once resolved). */
  private static @Nullable Endpoints staticEndpoints(ClusterConfig c) {
    return c.discovery() instanceof ClusterConfig.Static st ? st.endpoints() : null;
  }

  /**
   * Routes next: a route table that sends traffic to a cluster still warming waits (its previous
   * version serves), so a control plane that adds a cluster and moves a route to it in one update
   * ("make before break") never sees a 503 in between. A target is missing when it is warming or
   * not known at all: on ADS the RDS update that moves a route to a new cluster can be applied
   * before the CDS update naming that cluster (the server answers each type's request when it
   * comes, and a slow ACK leaves CDS behind). A table that keeps missing a cluster for longer than
   * the hold limit is taken anyway (the control plane may really mean a cluster that does not
   * exist; Envoy answers 503 then).
   */
  private void warmRoutes(
      long now,
      Map<String, ClusterConfig> clusters,
      Set<String> warming,
      Map<String, RouteTable> routes) {
    Set<String> stillHeld = new TreeSet<>();
    for (RouteTable t : this.<RouteTable>type(RDS).accepted.values()) {
      RouteTable old = published.routes().get(t.name());
      boolean hold = old != null && old != t && holdTable(now, t, clusters, warming);
      if (hold) {
        stillHeld.add(t.name());
        routes.put(t.name(), old);
        // While the held-back version serves, the clusters it targets stay even if CDS already
        // dropped them; they leave as soon as the new version takes over.
        for (String target : targetsOf(old)) {
          ClusterConfig was = published.clusters().get(target);
          if (was != null && !clusters.containsKey(target)) {
            clusters.put(target, was);
          }
        }
      } else {
        routes.put(t.name(), t);
      }
    }
    held.keySet().retainAll(stillHeld);
  }

  /** Whether changed table {@code t} waits for clusters it targets (see {@link #warmRoutes}). */
  private boolean holdTable(
      long now, RouteTable t, Map<String, ClusterConfig> clusters, Set<String> warming) {
    Set<String> targets = targetsOf(t);
    boolean complete = true;
    for (String target : targets) {
      if (!clusters.containsKey(target) && !staticClusterNames.contains(target)) {
        complete = false;
        break;
      }
    }
    if (complete) {
      return false;
    }
    Set<String> missing = new TreeSet<>(targets);
    missing.removeAll(clusters.keySet());
    missing.removeAll(staticClusterNames);
    if (warming.containsAll(missing)) {
      return true;
    }
    Held h = held.get(t.name());
    if (h == null || h.table() != t) {
      h = new Held(t, now);
      held.put(t.name(), h);
      LOG.log(
          Level.INFO,
          "event=route_held route={0} missing_clusters={1}",
          t.name(),
          String.join(",", missing));
      schedulePublish(holdLimit.toMillis() + 1);
    }
    if (now - h.since() > holdLimit.toMillis()) {
      LOG.log(
          Level.WARNING,
          "event=route_taken_with_unknown_clusters route={0} clusters={1}",
          t.name(),
          String.join(",", missing));
      return false;
    }
    return true;
  }

  /**
   * A listener whose new version still warms keeps serving its previous version, and with it the
   * route tables that version names, though RDS no longer follows them once the new version names
   * others (asking for them again could stall a server like SimpleCache, which answers no request
   * naming a resource its snapshot lacks). Without this, the serving version answered 404 from the
   * moment the new one was accepted until its routes came.
   */
  private void keepRoutesOfWarmingListeners(Map<String, RouteTable> routes) {
    for (ListenerConfig l : this.<ListenerConfig>type(LDS).accepted.values()) {
      ListenerConfig old = published.listeners().get(l.name());
      if (old == null || old == l) {
        continue;
      }
      Set<String> needs = new TreeSet<>();
      rdsNames(l, needs);
      if (routes.keySet().containsAll(needs)) {
        continue;
      }
      Set<String> had = new TreeSet<>();
      rdsNames(old, had);
      for (String name : had) {
        RouteTable was = published.routes().get(name);
        if (was != null) {
          routes.putIfAbsent(name, was);
        }
      }
    }
  }

  /**
   * Break after make, the other way round: CDS can drop a cluster before RDS moves the route that
   * targets it (SotW servers answer CDS first). A cluster a served route table still targets stays,
   * with its last endpoints, until no served table targets it, or at most the hold limit (then the
   * route answers 503 NC, as Envoy's would at once).
   */
  private void keepTargetedClusters(
      long now, Map<String, RouteTable> routes, Map<String, ClusterConfig> clusters) {
    Set<String> keptNow = new TreeSet<>();
    for (RouteTable t : routes.values()) {
      for (String target : targetsOf(t)) {
        if (clusters.containsKey(target)) {
          continue;
        }
        ClusterConfig was = published.clusters().get(target);
        if (was == null) {
          continue;
        }
        long since = kept.computeIfAbsent(target, k -> now);
        if (now - since <= holdLimit.toMillis()) {
          clusters.put(target, was);
          keptNow.add(target);
          if (since == now) {
            LOG.log(Level.DEBUG, "event=cluster_kept cluster={0} route={1}", target, t.name());
            schedulePublish(holdLimit.toMillis() + 1);
          }
        }
      }
    }
    kept.keySet().retainAll(keptNow);
  }

  /**
   * A cluster that still serves (its previous version while the new one warms, or one a held-back
   * route table targets) keeps its endpoints even if the server already removed them (delta EDS
   * removes the load assignments of clusters its snapshot dropped).
   */
  private void keepEndpointsOfServingClusters(
      Map<String, ClusterConfig> clusters, Map<String, Endpoints> endpoints) {
    for (ClusterConfig c : clusters.values()) {
      String eds = c.edsServiceName();
      if (eds != null && !endpoints.containsKey(eds)) {
        Endpoints was = published.endpoints().get(eds);
        if (was != null) {
          endpoints.put(eds, was);
        }
      }
    }
  }

  private void warmListeners(
      Map<String, RouteTable> routes,
      Map<String, ListenerConfig> listeners,
      Set<String> listenersWarming) {
    for (ListenerConfig l : this.<ListenerConfig>type(LDS).accepted.values()) {
      Set<String> needs = new TreeSet<>();
      rdsNames(l, needs);
      ListenerConfig old = published.listeners().get(l.name());
      if (routes.keySet().containsAll(needs)) {
        listeners.put(l.name(), l);
      } else if (old != null) {
        listeners.put(l.name(), old); // warming: the previous version keeps serving
      } else {
        listenersWarming.add(l.name());
      }
    }
  }

  /** Per type URL, the accepted protos by name (each type's copy shared until it changes). */
  private Map<String, Map<String, XdsState.Accepted>> acceptedProtos() {
    Map<String, Map<String, XdsState.Accepted>> protos = new HashMap<>();
    for (var e : types.entrySet()) {
      protos.put(e.getKey(), e.getValue().protosCopy());
    }
    return protos;
  }

  /**
   * The clusters each route table targets, by table identity: a table RDS did not change keeps its
   * object (the xDS client reuses it by digest), so a push of 2,000 clusters does not walk every
   * route of every table again, twice.
   */
  private final Map<RouteTable, Set<String>> targets = new java.util.IdentityHashMap<>();

  private Set<String> targetsOf(RouteTable t) {
    Set<String> s = targets.get(t);
    if (s == null) {
      s = java.util.Collections.unmodifiableSet(clustersOf(t));
      targets.put(t, s);
    }
    return s;
  }

  /** Keeps the targets of the tables accepted or now served only. */
  private void forgetTargetsOfGoneTables(Map<String, RouteTable> routes) {
    Set<RouteTable> live = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    live.addAll(routes.values());
    live.addAll(this.<RouteTable>type(RDS).accepted.values());
    targets.keySet().retainAll(live);
  }

  /**
   * Whether the first config is in, as Envoy's server initialisation counts it: CDS and LDS have
   * each answered, every cluster of those answers that needs EDS has its endpoints, and every
   * listener its RDS route tables (Envoy's cluster manager and listener warming hold its init
   * manager, so {@code /ready} says LIVE only then). What has not warmed within {@link
   * #INITIAL_FETCH_TIMEOUT} of the first answers is waited for no longer, as Envoy's default {@code
   * initial_fetch_timeout} does.
   */
  private boolean initialized(Set<String> clustersWarming, Set<String> listenersWarming) {
    if (types.get(LDS).nonce.isEmpty() || types.get(CDS).nonce.isEmpty()) {
      return false;
    }
    if (clustersWarming.isEmpty() && listenersWarming.isEmpty()) {
      cancelInitialTimer();
      return true;
    }
    long now = clock.millis();
    if (firstAnsweredAt < 0) {
      firstAnsweredAt = now;
      initialTimer = schedulePublish(INITIAL_FETCH_TIMEOUT.toMillis() + 1);
    }
    if (now - firstAnsweredAt <= INITIAL_FETCH_TIMEOUT.toMillis()) {
      return false;
    }
    cancelInitialTimer();
    LOG.log(
        Level.WARNING,
        "event=initialized_while_warming initial_fetch_timeout_s={0} clusters={1} listeners={2}",
        INITIAL_FETCH_TIMEOUT.toSeconds(),
        String.join(",", clustersWarming),
        String.join(",", listenersWarming));
    return true;
  }

  private void cancelInitialTimer() {
    var t = initialTimer;
    if (t != null) {
      t.cancel(false);
      initialTimer = null;
    }
  }

  /** Publishes again after {@code delayMillis} (a hold or the first warming runs out). */
  private java.util.concurrent.ScheduledFuture<?> schedulePublish(long delayMillis) {
    return executor.schedule(
        () -> {
          if (!closed) {
            publish();
          }
        },
        delayMillis,
        TimeUnit.MILLISECONDS);
  }

  /** A route table held back because it targets a cluster CDS has not named, and since when. */
  private record Held(RouteTable table, long since) {}

  private static Set<String> clustersOf(RouteTable t) {
    Set<String> names = new TreeSet<>();
    for (var vh : t.virtualHosts()) {
      for (var r : vh.routes()) {
        if (r.action() instanceof dev.bowline.proxy.config.RouteAction.Forward f) {
          switch (f.clusters()) {
            case dev.bowline.proxy.config.ClusterChoice.Single one -> names.add(one.cluster());
            case dev.bowline.proxy.config.ClusterChoice.Weighted w ->
                w.clusters().forEach(c -> names.add(c.name()));
            case dev.bowline.proxy.config.ClusterChoice.FromHeader h -> {} // known per request only
          }
        }
      }
    }
    return names;
  }

  /** Version and nonce last accepted per type URL, for the admin page and tests. */
  public Map<String, String> versions() {
    Map<String, String> v = new LinkedHashMap<>();
    for (var e : types.entrySet()) {
      v.put(e.getKey(), e.getValue().version);
    }
    return v;
  }

  @Override
  public void close() {
    executor.execute(
        () -> {
          closed = true;
          StreamObserver<DiscoveryRequest> out = requests;
          requests = null;
          if (out != null) {
            out.onCompleted();
          }
        });
    channel.shutdownNow();
  }
}
