package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.MeshRegistryTest;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import dev.bowline.controlplane.xds.server.PushStatus;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Narrowed pushes for config (issue #5), over real delta ADS streams: two sidecars whose Sidecar
 * resources let each see one service. A VirtualService or DestinationRule for one host pushes only
 * the sidecar that sees it (istiod's {@code SidecarScope.DependsOnConfig}), with the types that
 * kind can change; any other kind pushes everyone.
 */
class NarrowedPushTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  static final String BASE =
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: a, namespace: shop}
      spec:
        hosts: [a.shop.example]
        location: MESH_INTERNAL
        resolution: STATIC
        ports: [{number: 8080, name: http}]
        endpoints: [{address: 127.0.0.41, labels: {version: v1}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: b, namespace: shop}
      spec:
        hosts: [b.shop.example]
        location: MESH_INTERNAL
        resolution: STATIC
        ports: [{number: 8081, name: http}]
        endpoints: [{address: 127.0.0.42, labels: {version: v1}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: default, namespace: ta}
      spec:
        egress: [{hosts: [shop/a.shop.example]}]
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: default, namespace: tb}
      spec:
        egress: [{hosts: [shop/b.shop.example]}]
      """;

  static final String VS_A =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: a, namespace: shop}
      spec:
        hosts: [a.shop.example]
        http:
        - match: [{headers: {x-canary: {exact: "1"}}}]
          route: [{destination: {host: a.shop.example}}]
          timeout: 3s
        - route: [{destination: {host: a.shop.example}}]
      """;

  static final String DR_B =
      """
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: b, namespace: shop}
      spec:
        host: b.shop.example
        trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
      """;

  static final String PEER_AUTHN =
      """
      ---
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default, namespace: shop}
      spec: {mtls: {mode: STRICT}}
      """;

  ControlPlane cp;
  ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (cp != null) {
      cp.close();
    }
  }

  /** A delta ADS client that ACKs everything and counts responses per type. */
  static final class Client implements StreamObserver<DeltaDiscoveryResponse> {
    final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
    StreamObserver<DeltaDiscoveryRequest> requests;

    @Override
    public synchronized void onNext(DeltaDiscoveryResponse r) {
      received.computeIfAbsent(r.getTypeUrl(), t -> new AtomicInteger()).incrementAndGet();
      requests.onNext(
          DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(r.getTypeUrl())
              .setResponseNonce(r.getNonce())
              .build());
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}

    int count(String type) {
      AtomicInteger n = received.get(type);
      return n == null ? 0 : n.get();
    }

    int total() {
      return received.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    synchronized void subscribe(Node node, String rds) {
      requests.onNext(
          DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(TypeUrls.CLUSTER).build());
      requests.onNext(DeltaDiscoveryRequest.newBuilder().setTypeUrl(TypeUrls.LISTENER).build());
      requests.onNext(
          DeltaDiscoveryRequest.newBuilder()
              .setTypeUrl(TypeUrls.ROUTE)
              .addResourceNamesSubscribe(rds)
              .build());
    }
  }

  Client connect(String namespace, String ip, String rds) {
    Client c = new Client();
    synchronized (c) {
      c.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(c);
    }
    Node node =
        Node.newBuilder()
            .setId("sidecar~" + ip + "~app." + namespace + "~" + namespace + ".svc.cluster.local")
            .setMetadata(
                Struct.newBuilder()
                    .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build()))
            .build();
    c.subscribe(node, rds);
    return c;
  }

  void update(String yaml) {
    ConfigSnapshot snapshot = MeshRegistryTest.config(yaml);
    cp.updateConfig(
        snapshot, IstioConfigInputs.of(snapshot, "cluster.local", "istio-system"), "test");
  }

  /**
   * Waits until every push queued so far has run on its stream and every stream has ACKed all it
   * was sent. A client counts a response before it ACKs it, so from then on the counts hold every
   * response of those pushes and can be compared exactly, with no sleep (a 300 ms sleep was too
   * short on a loaded machine: a late response landed after a count was read).
   */
  void awaitSettled() {
    await()
        .atMost(WAIT)
        .until(
            () ->
                cp.xds().pushesIdle()
                    && cp.xds().syncStatus().stream()
                        .allMatch(
                            s ->
                                s.types().values().stream()
                                    .allMatch(
                                        t ->
                                            t.status().equals("SYNCED")
                                                || t.status().equals("NOT_SENT"))));
  }

  PushStatus awaitPush(long afterVersion) {
    await()
        .atMost(WAIT)
        .until(() -> cp.xds().lastPush().map(p -> p.version() > afterVersion).orElse(false));
    return cp.xds().lastPush().orElseThrow();
  }

  long version() {
    return cp.xds().lastPush().map(PushStatus::version).orElse(0L);
  }

  @Test
  void virtualServiceAndDestinationRuleChangesPushOnlyTheProxiesThatSeeTheirHost()
      throws Exception {
    cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    update(BASE);
    cp.start();
    // The first push (of BASE) is released by the debouncer; it must not reach the clients late.
    await().atMost(WAIT).until(() -> cp.xds().lastPush().isPresent());
    channel =
        Grpc.newChannelBuilderForAddress(
                "127.0.0.1", cp.xdsPort(), InsecureChannelCredentials.create())
            .build();
    Client a = connect("ta", "127.0.0.51", "8080");
    Client b = connect("tb", "127.0.0.52", "8081");
    for (Client c : List.of(a, b)) {
      await()
          .atMost(WAIT)
          .until(
              () ->
                  c.count(TypeUrls.CLUSTER) > 0
                      && c.count(TypeUrls.LISTENER) > 0
                      && c.count(TypeUrls.ROUTE) > 0);
    }
    awaitSettled(); // the initial exchange is over: every response counted
    int aBefore = a.total();
    int bBefore = b.total();

    // A VirtualService for a.shop.example: only the sidecar that sees it, and only LDS/RDS
    int aRoutes = a.count(TypeUrls.ROUTE);
    long v = version();
    update(BASE + VS_A);
    PushStatus vsPush = awaitPush(v);
    assertThat(vsPush.full()).isTrue();
    assertThat(vsPush.connected()).isEqualTo(2);
    assertThat(vsPush.proxiesQueued()).isEqualTo(1);
    awaitSettled();
    assertThat(a.count(TypeUrls.ROUTE)).isEqualTo(aRoutes + 1);
    assertThat(a.total()).isEqualTo(aBefore + 1); // CDS not regenerated, LDS unchanged
    assertThat(b.total()).isEqualTo(bBefore);

    // A DestinationRule for b.shop.example: only the other sidecar, which gets its new cluster
    int aMid = a.total();
    int bClusters = b.count(TypeUrls.CLUSTER);
    v = version();
    update(BASE + VS_A + DR_B);
    PushStatus drPush = awaitPush(v);
    assertThat(drPush.proxiesQueued()).isEqualTo(1);
    awaitSettled();
    assertThat(b.count(TypeUrls.CLUSTER)).isGreaterThan(bClusters);
    assertThat(a.total()).isEqualTo(aMid);

    // Another kind (PeerAuthentication): everyone
    v = version();
    update(BASE + VS_A + DR_B + PEER_AUTHN);
    PushStatus paPush = awaitPush(v);
    assertThat(paPush.proxiesQueued()).isEqualTo(2);
    awaitSettled();

    // Removing the VirtualService is a change for its host too
    int bEnd = b.total();
    int aRoutesEnd = a.count(TypeUrls.ROUTE);
    v = version();
    update(BASE + DR_B + PEER_AUTHN);
    PushStatus removal = awaitPush(v);
    assertThat(removal.proxiesQueued()).isEqualTo(1);
    awaitSettled();
    assertThat(a.count(TypeUrls.ROUTE)).isEqualTo(aRoutesEnd + 1);
    assertThat(b.total()).isEqualTo(bEnd);
  }
}
