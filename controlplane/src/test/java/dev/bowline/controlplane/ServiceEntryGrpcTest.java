package dev.bowline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.xds.server.SyncStatus;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.grpc.xds.XdsNameResolverProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-java's own xDS client reaches services that exist only as Istio config: a ServiceEntry whose
 * WorkloadEntries (selected by labels) sit in two localities of weight 3 and 1, so calls split 3:1;
 * a proxy that connects with {@code AUTO_REGISTER_GROUP} joins the service from its WorkloadGroup's
 * template while connected, keeps its entry when it reconnects within the grace period, and leaves
 * after the grace period when its stream ends.
 */
class ServiceEntryGrpcTest {
  static final String HOST = "billing.shop.example";
  static final int PORT = 9000;

  @TempDir Path dir;
  final List<Server> backends = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  ControlPlane controlPlane;
  ConfigFeed feed;

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server s : backends) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (feed != null) {
      feed.close();
    }
    if (controlPlane != null) {
      controlPlane.close();
    }
  }

  Server backend(String name, String ip) throws Exception {
    Server s = TestBackends.start(name, ip);
    backends.add(s);
    return s;
  }

  @Test
  void serviceEntryWorkloadEntriesAndAutoRegisteredWorkloadsServeGrpcClients() throws Exception {
    Server a = backend("billing-a", "127.0.0.22");
    Server b = backend("billing-b", "127.0.0.23");
    Server vm = backend("billing-vm", "127.0.0.24");
    Files.writeString(
        dir.resolve("billing.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: billing, namespace: shop}
        spec:
          hosts: [%s]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: %d, name: grpc, protocol: GRPC}]
          workloadSelector: {labels: {app: billing}}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: billing-a, namespace: shop}
        spec: {address: 127.0.0.22, ports: {grpc: %d}, labels: {app: billing}, locality: r1/zone-a, weight: 3}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: billing-b, namespace: shop}
        spec: {address: 127.0.0.23, ports: {grpc: %d}, labels: {app: billing}, locality: r1/zone-b, weight: 1}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadGroup
        metadata: {name: billing-vm, namespace: shop}
        spec:
          metadata: {labels: {app: billing}}
          template: {ports: {grpc: %d}, locality: r1/zone-c, weight: 4}
        """
            .formatted(HOST, PORT, a.getPort(), b.getPort(), vm.getPort()));
    controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1))
                .withWorkloadEntryGrace(Duration.ofSeconds(1)),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(controlPlane, List.of(dir), Clock.systemUTC());
    controlPlane.start();
    ManagedChannel ch = channel();
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> !GrpcXdsClientTest.call(ch).isEmpty());

    // Locality weights 3 and 1 (the sums of the entries' weights): a 3:1 split.
    Map<String, Integer> split = GrpcXdsClientTest.spread(ch, 800);
    System.out.println("service_entry_split=" + split);
    assertThat(split).containsOnlyKeys("billing-a", "billing-b");
    assertThat(split.get("billing-a") / 800.0).isBetween(0.68, 0.82);

    // A WorkloadEntry edit (weight 1 -> 3) only moves endpoints: an EDS-only push, 1:1 split.
    Path file = dir.resolve("billing.yaml");
    Files.writeString(
        file,
        Files.readString(file)
            .replace("locality: r1/zone-b, weight: 1}", "locality: r1/zone-b, weight: 3}"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> GrpcXdsClientTest.spread(ch, 100).getOrDefault("billing-b", 0) > 35);
    assertThat(controlPlane.xds().lastPush().orElseThrow().full()).isFalse();
    assertThat(controlPlane.xds().lastPush().orElseThrow().reasons()).containsExactly("endpoint");
    Map<String, Integer> even = GrpcXdsClientTest.spread(ch, 800);
    System.out.println("after_workload_entry_edit=" + even);
    assertThat(even.get("billing-a") / 800.0).isBetween(0.42, 0.58);

    // A VM proxy connects asking to be registered from the group: it joins with weight 4.
    ManagedChannel ads =
        Grpc.newChannelBuilder(
                "127.0.0.1:" + controlPlane.xdsPort(), InsecureChannelCredentials.create())
            .build();
    channels.add(ads);
    StreamObserver<DiscoveryRequest> vmStream = vmStream(ads);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> GrpcXdsClientTest.spread(ch, 20).containsKey("billing-vm"));
    Map<String, Integer> withVm = GrpcXdsClientTest.spread(ch, 800);
    System.out.println("with_auto_registered_vm=" + withVm);
    assertThat(withVm.get("billing-vm") / 800.0).isBetween(0.33, 0.47); // 4 of 10
    assertThat(
            controlPlane.registry().snapshot().endpoints(HOST, PORT).stream()
                .map(e -> e.workloadName()))
        .contains("billing-vm-127.0.0.24");

    // It reconnects within the grace period (1 s here, Istio's 10 s by default): the entry stays
    // past the old stream's grace.
    vmStream.onCompleted();
    StreamObserver<DiscoveryRequest> again = vmStream(ads);
    Thread.sleep(2000);
    assertThat(controlPlane.registry().snapshot().endpoints(HOST, PORT)).hasSize(3);

    // Its stream ends for good: after the grace period the entry goes, and with it the traffic.
    again.onCompleted();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !GrpcXdsClientTest.spread(ch, 40).containsKey("billing-vm"));
    assertThat(controlPlane.registry().snapshot().endpoints(HOST, PORT)).hasSize(2);
  }

  /** A VM's proxy stream asking to be registered from the billing-vm WorkloadGroup. */
  static StreamObserver<DiscoveryRequest> vmStream(ManagedChannel ads) {
    List<DiscoveryResponse> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    StreamObserver<DiscoveryRequest> vmStream =
        AggregatedDiscoveryServiceGrpc.newStub(ads)
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse r) {
                    received.add(r);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    vmStream.onNext(
        DiscoveryRequest.newBuilder()
            .setNode(
                Node.newBuilder()
                    .setId("sidecar~127.0.0.24~vm1.shop~shop.svc.cluster.local")
                    .setMetadata(
                        Struct.newBuilder()
                            .putFields("AUTO_REGISTER_GROUP", str("billing-vm"))
                            .putFields("NAMESPACE", str("shop"))))
            .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
            .build());
    return vmStream;
  }

  /**
   * A DNS ServiceEntry behind a VirtualService of a visible service: grpc-java takes no STRICT_DNS
   * clusters, so a proxyless client gets a LOGICAL_DNS cluster and resolves the name itself.
   */
  @Test
  void dnsServiceEntryBehindAVirtualServiceServesGrpcClients() throws Exception {
    Server ledger = backend("ledger", "127.0.0.1");
    Server direct = backend("billing-direct", "127.0.0.25");
    Files.writeString(
        dir.resolve("ledger.yaml"),
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: billing, namespace: shop}
        spec:
          hosts: [%1$s]
          location: MESH_INTERNAL
          resolution: STATIC
          ports: [{number: %2$d, name: grpc, protocol: GRPC}]
          endpoints: [{address: 127.0.0.25, ports: {grpc: %3$d}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: ledger, namespace: shop}
        spec:
          hosts: [ledger.shop.example]
          location: MESH_EXTERNAL
          resolution: DNS
          ports: [{number: %2$d, name: grpc, protocol: GRPC}]
          endpoints: [{address: localhost, ports: {grpc: %4$d}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: billing, namespace: shop}
        spec:
          hosts: [%1$s]
          http: [{route: [{destination: {host: ledger.shop.example, port: {number: %2$d}}}]}]
        """
            .formatted(HOST, PORT, direct.getPort(), ledger.getPort()));
    controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    feed = ConfigFeed.start(controlPlane, List.of(dir), Clock.systemUTC());
    controlPlane.start();
    // A LOGICAL_DNS cluster makes grpc-java look up the "dns" resolver in the channel's registry;
    // a channel given only the xDS resolver factory has none, so register it in the default
    // registry (beside dns) for this test.
    var xds = XdsNameResolverProvider.createForTest(GrpcXdsClientTest.SCHEME, bootstrap());
    io.grpc.NameResolverRegistry.getDefaultRegistry().register(xds);
    try {
      ManagedChannel ch =
          Grpc.newChannelBuilder(
                  GrpcXdsClientTest.SCHEME + ":///" + HOST + ":" + PORT,
                  InsecureChannelCredentials.create())
              .build();
      channels.add(ch);
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> !GrpcXdsClientTest.call(ch).isEmpty());
      assertThat(GrpcXdsClientTest.spread(ch, 20)).containsOnlyKeys("ledger");
    } finally {
      io.grpc.NameResolverRegistry.getDefaultRegistry().deregister(xds);
    }
    // the client ACKed every type (a STRICT_DNS cluster would be NACKed)
    assertThat(controlPlane.xds().syncStatus())
        .allSatisfy(
            s ->
                assertThat(s.types().values())
                    .extracting(SyncStatus.TypeStatus::status)
                    .doesNotContain("NACK"));
  }

  static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  ManagedChannel channel() {
    @SuppressWarnings("deprecation")
    ManagedChannel ch =
        Grpc.newChannelBuilder(
                GrpcXdsClientTest.SCHEME + ":///" + HOST + ":" + PORT,
                InsecureChannelCredentials.create())
            .nameResolverFactory(
                XdsNameResolverProvider.createForTest(GrpcXdsClientTest.SCHEME, bootstrap()))
            .build();
    channels.add(ch);
    return ch;
  }

  Map<String, Object> bootstrap() {
    return Map.of(
        "xds_servers",
        List.of(
            Map.of(
                "server_uri", "127.0.0.1:" + controlPlane.xdsPort(),
                "channel_creds", List.of(Map.of("type", "insecure")),
                "server_features", List.of("xds_v3"))),
        "node",
        Map.of(
            "id",
            "sidecar~127.0.0.1~client.shop~shop.svc.cluster.local",
            "metadata",
            Map.of("GENERATOR", "grpc", "NAMESPACE", "shop")));
  }
}
