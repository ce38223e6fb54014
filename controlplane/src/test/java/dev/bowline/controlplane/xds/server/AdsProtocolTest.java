package dev.bowline.controlplane.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.LocalService;
import dev.bowline.controlplane.registry.Locality;
import dev.bowline.controlplane.registry.Protocol;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.Workload;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The ADS protocol over a real gRPC stream, from a raw client: subscriptions, wildcards, versions
 * and nonces, ACK and NACK, removal, reconnect, EDS-only pushes, malformed requests.
 */
class AdsProtocolTest {
  static final String FORECAST = "forecast.weather.svc.cluster.local";
  static final String FORECAST_CLUSTER = "outbound|8080||" + FORECAST;
  static final String ADS_CLUSTER = "outbound|9090||advertisement.weather.svc.cluster.local";
  static final Duration WAIT = Duration.ofSeconds(5);

  final LocalRegistry registry = new LocalRegistry("cluster.local");
  ControlPlane cp;
  ManagedChannel channel;

  /** One raw ADS stream and what came back on it. */
  static final class Stream<Q, A> implements StreamObserver<A> {
    final BlockingQueue<A> responses = new LinkedBlockingQueue<>();
    final BlockingQueue<Status> closed = new LinkedBlockingQueue<>();
    StreamObserver<Q> requests;

    @Override
    public void onNext(A value) {
      responses.add(value);
    }

    @Override
    public void onError(Throwable t) {
      closed.add(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      closed.add(Status.OK);
    }

    A next() throws InterruptedException {
      A a = responses.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(a).as("a response within " + WAIT).isNotNull();
      return a;
    }

    void assertNothingFor(Duration d) throws InterruptedException {
      assertThat(responses.poll(d.toMillis(), TimeUnit.MILLISECONDS)).isNull();
    }

    Status status() throws InterruptedException {
      Status s = closed.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(s).as("the stream ends within " + WAIT).isNotNull();
      return s;
    }
  }

  @BeforeEach
  void start() throws Exception {
    service("forecast", 8080);
    service("advertisement", 9090);
    workload("forecast-v1", "forecast", "127.0.0.11");
    workload("ads-v1", "advertisement", "127.0.0.21");
    cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            registry,
            ConfigInputs.NONE,
            Clock.systemUTC());
    cp.start();
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", cp.xdsPort(), InsecureChannelCredentials.create())
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    cp.close();
  }

  void service(String name, int port) {
    registry.putService(
        new LocalService(
            "weather",
            name,
            List.of(new ServicePort("grpc", port, Protocol.GRPC, port)),
            Map.of(),
            Map.of()));
  }

  void workload(String name, String app, String ip) {
    registry.putWorkload(
        new Workload(
            "weather",
            name,
            Map.of("app", app),
            ip,
            Map.of(),
            "default",
            Locality.NONE,
            "",
            HealthStatus.HEALTHY));
  }

  static Node node(String id, String generator) {
    Struct.Builder md =
        Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("weather").build());
    if (!generator.isEmpty()) {
      md.putFields("GENERATOR", Value.newBuilder().setStringValue(generator).build());
    }
    return Node.newBuilder().setId(id).setMetadata(md).build();
  }

  static Node sidecar(String name, String ip) {
    return node("sidecar~" + ip + "~" + name + ".weather~weather.svc.cluster.local", "");
  }

  Stream<DiscoveryRequest, DiscoveryResponse> sotw() {
    Stream<DiscoveryRequest, DiscoveryResponse> s = new Stream<>();
    s.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(s);
    return s;
  }

  Stream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> delta() {
    Stream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> s = new Stream<>();
    s.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(s);
    return s;
  }

  static <T extends com.google.protobuf.Message> List<String> names(
      DiscoveryResponse r, Class<T> type, Function<T, String> name) {
    return r.getResourcesList().stream()
        .map(
            any -> {
              try {
                return name.apply(any.unpack(type));
              } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
              }
            })
        .toList();
  }

  static DiscoveryRequest ack(DiscoveryResponse r, List<String> names) {
    return DiscoveryRequest.newBuilder()
        .setTypeUrl(r.getTypeUrl())
        .setVersionInfo(r.getVersionInfo())
        .setResponseNonce(r.getNonce())
        .addAllResourceNames(names)
        .build();
  }

  @Test
  void sotwWildcardCdsAckNackAndRemoval() throws Exception {
    var s = sotw();
    s.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(sidecar("frontend", "127.0.0.31"))
            .setTypeUrl(TypeUrls.CLUSTER)
            .build());
    DiscoveryResponse first = s.next();
    assertThat(names(first, Cluster.class, Cluster::getName))
        .containsExactlyInAnyOrder(
            ADS_CLUSTER,
            FORECAST_CLUSTER,
            "BlackHoleCluster",
            "PassthroughCluster",
            "InboundPassthroughCluster");
    s.requests.onNext(ack(first, List.of()));

    // A new service: the wildcard subscriber gets the full set again, with a new version and nonce.
    service("recommendation", 7070);
    DiscoveryResponse second = s.next();
    assertThat(second.getNonce()).isNotEqualTo(first.getNonce());
    assertThat(Long.parseLong(second.getVersionInfo()))
        .isGreaterThan(Long.parseLong(first.getVersionInfo()));
    assertThat(names(second, Cluster.class, Cluster::getName))
        .contains("outbound|7070||recommendation.weather.svc.cluster.local");

    // The proxy rejects it: recorded per proxy and type, counted, and not sent again.
    s.requests.onNext(
        ack(second, List.of()).toBuilder()
            .setVersionInfo(first.getVersionInfo())
            .setErrorDetail(
                com.google.rpc.Status.newBuilder()
                    .setCode(3)
                    .setMessage("cluster recommendation: unsupported thing"))
            .build());
    await().atMost(WAIT).until(() -> cp.xds().metrics().rejectCount(TypeUrls.CLUSTER) == 1);
    s.assertNothingFor(Duration.ofMillis(300));
    SyncStatus status = cp.xds().syncStatus().getFirst();
    assertThat(status.types().get("cds").status()).isEqualTo("NACK");
    assertThat(status.types().get("cds").nackError())
        .isEqualTo("cluster recommendation: unsupported thing");
    assertThat(httpGet("/debug/syncz"))
        .contains("\"nack_error\" : \"cluster recommendation: unsupported thing\"");

    // Removal: in SotW CDS a cluster that is no longer listed is gone.
    registry.removeService("weather", "recommendation");
    DiscoveryResponse third = s.next();
    assertThat(names(third, Cluster.class, Cluster::getName))
        .doesNotContain("outbound|7070||recommendation.weather.svc.cluster.local");
    s.requests.onNext(ack(third, List.of()));
    await()
        .atMost(WAIT)
        .until(() -> cp.xds().syncStatus().getFirst().types().get("cds").status().equals("SYNCED"));
    assertThat(httpGet("/metrics"))
        .contains("pilot_total_xds_rejects{type=\"cds\"} 1.0")
        .contains("pilot_xds{version=\"unknown\"} 1.0")
        .containsPattern("pilot_xds_pushes\\{type=\"cds\"} [1-9]");
  }

  @Test
  void endpointChangePushesEdsOnlyToItsWatchers() throws Exception {
    var watcher = sotw();
    watcher.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(sidecar("frontend", "127.0.0.31"))
            .setTypeUrl(TypeUrls.CLUSTER)
            .build());
    watcher.requests.onNext(ack(watcher.next(), List.of()));
    watcher.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.ENDPOINT)
            .addResourceNames(FORECAST_CLUSTER)
            .build());
    DiscoveryResponse eds = watcher.next();
    assertThat(eds.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
    watcher.requests.onNext(ack(eds, List.of(FORECAST_CLUSTER)));

    var other = sotw();
    other.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(sidecar("ads-client", "127.0.0.32"))
            .setTypeUrl(TypeUrls.ENDPOINT)
            .addResourceNames(ADS_CLUSTER)
            .build());
    other.requests.onNext(ack(other.next(), List.of(ADS_CLUSTER)));
    long pushesBefore = cp.xds().metrics().pushCount(TypeUrls.CLUSTER);

    workload("forecast-v2", "forecast", "127.0.0.12");
    DiscoveryResponse update = watcher.next();
    assertThat(update.getTypeUrl()).isEqualTo(TypeUrls.ENDPOINT);
    ClusterLoadAssignment cla = update.getResources(0).unpack(ClusterLoadAssignment.class);
    assertThat(cla.getEndpoints(0).getLbEndpointsList())
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
        .containsExactlyInAnyOrder("127.0.0.11", "127.0.0.12");
    assertThat(cla.getEndpoints(0).getLoadBalancingWeight().getValue()).isEqualTo(2);
    watcher.assertNothingFor(Duration.ofMillis(200)); // no CDS with it
    other.assertNothingFor(Duration.ofMillis(1)); // not watching forecast: nothing at all
    assertThat(cp.xds().metrics().pushCount(TypeUrls.CLUSTER)).isEqualTo(pushesBefore);
    assertThat(httpGet("/debug/push_status"))
        .contains("\"full\" : false")
        .contains("\"eds_hosts\" : [ \"" + FORECAST + "\" ]")
        .contains("\"reasons\" : [ \"endpoint\" ]")
        .contains("\"proxies_queued\" : 1");
  }

  @Test
  void deltaSubscriptionsRemovalNackAndReconnect() throws Exception {
    var s = delta();
    s.requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setNode(sidecar("frontend", "127.0.0.31"))
            .setTypeUrl(TypeUrls.ENDPOINT)
            .addResourceNamesSubscribe(FORECAST_CLUSTER)
            .addResourceNamesSubscribe("outbound|1||nothing.weather.svc.cluster.local")
            .build());
    DeltaDiscoveryResponse first = s.next();
    assertThat(first.getResourcesList())
        .extracting(Resource::getName)
        .containsExactly(FORECAST_CLUSTER);
    // Subscribed but nonexistent: the delta protocol says so in removed_resources.
    assertThat(first.getRemovedResourcesList())
        .containsExactly("outbound|1||nothing.weather.svc.cluster.local");
    String v1 = first.getResources(0).getVersion();
    s.requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.ENDPOINT)
            .setResponseNonce(first.getNonce())
            .build());

    // A change: only the changed resource, with a new version.
    workload("forecast-v2", "forecast", "127.0.0.12");
    DeltaDiscoveryResponse second = s.next();
    assertThat(second.getResourcesList())
        .extracting(Resource::getName)
        .containsExactly(FORECAST_CLUSTER);
    assertThat(second.getResources(0).getVersion()).isNotEqualTo(v1);
    // NACK it: recorded, not resent.
    s.requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setTypeUrl(TypeUrls.ENDPOINT)
            .setResponseNonce(second.getNonce())
            .setErrorDetail(com.google.rpc.Status.newBuilder().setMessage("endpoint rejected"))
            .build());
    await().atMost(WAIT).until(() -> cp.xds().metrics().rejectCount(TypeUrls.ENDPOINT) == 1);
    s.assertNothingFor(Duration.ofMillis(200));
    assertThat(cp.xds().syncStatus().getFirst().types().get("eds").nackError())
        .isEqualTo("endpoint rejected");

    // Service removed: the resource is removed.
    registry.removeService("weather", "forecast");
    DeltaDiscoveryResponse third = s.next();
    assertThat(third.getRemovedResourcesList()).containsExactly(FORECAST_CLUSTER);
    s.requests.onCompleted();
    assertThat(s.status().isOk()).isTrue();

    // Reconnect with what the client has: an up-to-date resource is not sent again.
    service("forecast", 8080);
    // A new stream is served from the current push context, which the debounced push replaces.
    await()
        .atMost(WAIT)
        .until(() -> cp.xds().pushContext().registry().service(FORECAST).isPresent());
    var again = delta();
    again.requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setNode(sidecar("frontend", "127.0.0.31"))
            .setTypeUrl(TypeUrls.CLUSTER)
            .build());
    DeltaDiscoveryResponse cds = again.next();
    Map<String, String> have = new java.util.HashMap<>();
    cds.getResourcesList().forEach(r -> have.put(r.getName(), r.getVersion()));
    assertThat(have).containsKey(FORECAST_CLUSTER);
    again.requests.onCompleted();

    var third2 = delta();
    have.put("outbound|5|gone|old.weather.svc.cluster.local", "stale");
    third2.requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setNode(sidecar("frontend", "127.0.0.31"))
            .setTypeUrl(TypeUrls.CLUSTER)
            .putAllInitialResourceVersions(have)
            .build());
    DeltaDiscoveryResponse resumed = third2.next();
    assertThat(resumed.getResourcesList()).isEmpty();
    assertThat(resumed.getRemovedResourcesList())
        .containsExactly("outbound|5|gone|old.weather.svc.cluster.local");
  }

  @Test
  void malformedRequestsEndTheStreamWithAnError() throws Exception {
    var noNode = sotw();
    noNode.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(TypeUrls.CLUSTER).build());
    Status s1 = noNode.status();
    assertThat(s1.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s1.getDescription()).contains("must carry the node");

    var badId = delta();
    badId.requests.onNext(
        DeltaDiscoveryRequest.newBuilder()
            .setNode(node("my-client", "grpc"))
            .setTypeUrl(TypeUrls.LISTENER)
            .build());
    Status s2 = badId.status();
    assertThat(s2.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s2.getDescription()).startsWith("node id 'my-client' has 1 parts");
    assertThat(httpGet("/debug/syncz")).contains("\"node_id\" : \"my-client\"");

    var badType = sotw();
    badType.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(sidecar("frontend", "127.0.0.31"))
            .setTypeUrl("type.googleapis.com/foo.Bar")
            .build());
    Status s3 = badType.status();
    assertThat(s3.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s3.getDescription())
        .startsWith("type_url type.googleapis.com/foo.Bar is not served");
    await().atMost(WAIT).until(() -> cp.xds().connectionCount() == 0);
  }

  @Test
  void equivalentProxiesShareOneGeneration() throws Exception {
    var a = sotw();
    a.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(node("sidecar~127.0.0.41~c1.weather~weather.svc.cluster.local", "grpc"))
            .setTypeUrl(TypeUrls.CLUSTER)
            .addResourceNames(FORECAST_CLUSTER)
            .build());
    a.next();
    long generations = cp.xds().metrics().generations();
    var b = sotw();
    b.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(node("sidecar~127.0.0.42~c2.weather~weather.svc.cluster.local", "grpc"))
            .setTypeUrl(TypeUrls.CLUSTER)
            .addResourceNames(FORECAST_CLUSTER)
            .build());
    assertThat(b.next().getResourcesCount()).isEqualTo(1);
    assertThat(cp.xds().metrics().generations()).isEqualTo(generations);

    // A proxy of another class (other labels) is generated for separately.
    var c = sotw();
    Node other =
        node("sidecar~127.0.0.43~c3.weather~weather.svc.cluster.local", "grpc").toBuilder()
            .setMetadata(
                node("x~", "grpc").getMetadata().toBuilder()
                    .putFields(
                        "LABELS",
                        Value.newBuilder()
                            .setStructValue(
                                Struct.newBuilder()
                                    .putFields(
                                        "app", Value.newBuilder().setStringValue("other").build()))
                            .build()))
            .build();
    c.requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(other)
            .setTypeUrl(TypeUrls.CLUSTER)
            .addResourceNames(FORECAST_CLUSTER)
            .build());
    c.next();
    assertThat(cp.xds().metrics().generations()).isEqualTo(generations + 1);

    // The config dump shows what that proxy gets, in Envoy's admin format.
    assertThat(
            httpGet(
                "/debug/config_dump?proxyID=sidecar~127.0.0.43~c3.weather~weather.svc.cluster.local"))
        .contains("\"@type\": \"type.googleapis.com/envoy.admin.v3.ClustersConfigDump\"")
        .contains("\"name\": \"" + FORECAST_CLUSTER + "\"");
    assertThat(httpGet("/debug/registryz"))
        .contains("\"hostname\" : \"" + FORECAST + "\"", "\"address\" : \"127.0.0.11\"");
    assertThat(httpGet("/ready")).isEqualTo("ready\n");
  }

  String httpGet(String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.monitoringPort() + path))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  @Test
  void aClientThatDoesNotReadGetsTheLatestStateNotEveryPush() throws Exception {
    for (int i = 0; i < 400; i++) {
      service("bulk-" + i, 8000 + i);
    }
    await().atMost(WAIT).until(() -> cp.xds().pushContext().registry().services().size() == 402);
    BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    java.util.concurrent.atomic.AtomicReference<
            io.grpc.stub.ClientCallStreamObserver<DiscoveryRequest>>
        call = new java.util.concurrent.atomic.AtomicReference<>();
    // A client with a small HTTP/2 window (64 KB) that stops reading after the first response.
    ManagedChannel small =
        io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort())
            .usePlaintext()
            .flowControlWindow(64 * 1024)
            .build();
    StreamObserver<DiscoveryRequest> requests =
        AggregatedDiscoveryServiceGrpc.newStub(small)
            .streamAggregatedResources(
                new io.grpc.stub.ClientResponseObserver<DiscoveryRequest, DiscoveryResponse>() {
                  @Override
                  public void beforeStart(
                      io.grpc.stub.ClientCallStreamObserver<DiscoveryRequest> r) {
                    r.disableAutoRequestWithInitial(1); // read one response, then stop reading
                    call.set(r);
                  }

                  @Override
                  public void onNext(DiscoveryResponse r) {
                    responses.add(r);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(sidecar("slow", "127.0.0.33"))
            .setTypeUrl(TypeUrls.CLUSTER)
            .build());
    DiscoveryResponse first = responses.poll(5, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    requests.onNext(ack(first, List.of()));

    // 15 separate pushes, each ~60 KB of clusters, while the client reads nothing.
    for (int i = 0; i < 15; i++) {
      long before = cp.xds().pushContext().version();
      service("late-" + i, 7000 + i);
      await().atMost(WAIT).until(() -> cp.xds().pushContext().version() > before);
    }
    Thread.sleep(300);
    call.get().request(100);
    await()
        .atMost(WAIT)
        .until(
            () -> {
              DiscoveryResponse last = null;
              for (DiscoveryResponse r : responses) {
                last = r;
              }
              return last != null
                  && names(last, Cluster.class, Cluster::getName)
                      .contains("outbound|7014||late-14.weather.svc.cluster.local");
            });
    Thread.sleep(200);
    // The HTTP/2 window lets the first push or two through; the rest were merged into one.
    assertThat(responses.size()).isLessThanOrEqualTo(4);
    small.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
