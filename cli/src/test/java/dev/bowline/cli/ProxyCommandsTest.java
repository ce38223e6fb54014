package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.LocalRegistry;
import dev.bowline.controlplane.registry.RegistryFile;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code proxy-status} and {@code proxy-config} against a running control plane and a real ADS
 * stream.
 */
class ProxyCommandsTest {
  static final String ID = "sidecar~127.0.0.10~frontend-v1.weather~weather.svc.cluster.local";
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";

  ControlPlane cp;
  ManagedChannel channel;
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws Exception {
    LocalRegistry registry = new LocalRegistry("cluster.local");
    registry.replaceAll(
        RegistryFile.parse(
            """
            services:
            - {namespace: weather, name: forecast, ports: [{name: http, port: 3000}]}
            workloads:
            - {namespace: weather, name: forecast-v1, labels: {app: forecast}, address: 127.0.0.30, locality: local/zone-a}
            """,
            "test"));
    cp =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS.withPorts(0, 0),
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

  int run(String... args) {
    CommandLine cmd = Main.newCommandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  @Test
  void statusAndConfigOfAConnectedSidecar() throws Exception {
    BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    StreamObserver<DiscoveryRequest> requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse r) {
                    responses.add(r);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    Node node =
        Node.newBuilder()
            .setId(ID)
            .setMetadata(
                Struct.newBuilder()
                    .putFields(
                        "ISTIO_VERSION", Value.newBuilder().setStringValue("1.24.0").build()))
            .build();
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
    // Bounds for a loaded 2-core CI machine: the first push there took longer than 5 s.
    DiscoveryResponse cds = responses.poll(60, TimeUnit.SECONDS);
    assertThat(cds).as("the control plane's first CDS response").isNotNull();
    requests.onNext(
        DiscoveryRequest.newBuilder()
            .setTypeUrl(CDS)
            .setVersionInfo(cds.getVersionInfo())
            .setResponseNonce(cds.getNonce())
            .build());
    requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(LDS).build());
    assertThat(responses.poll(60, TimeUnit.SECONDS)).isNotNull();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> cp.xds().syncStatus().getFirst().types().get("cds").status().equals("SYNCED"));

    String url = "http://127.0.0.1:" + cp.monitoringPort();
    assertThat(run("proxy-status", "--control-plane", url)).as(err.toString()).isZero();
    assertThat(out.toString().lines())
        .containsExactly(
            "NAME                  CLUSTER   CDS      LDS     EDS       RDS       PROTOCOL   VERSION",
            "frontend-v1.weather             SYNCED   STALE   IGNORED   IGNORED   sotw       1.24.0");

    out.getBuffer().setLength(0);
    assertThat(run("proxy-config", "cluster", ID, "--control-plane", url))
        .as(err.toString())
        .isZero();
    assertThat(out.toString())
        .contains("forecast.weather.svc.cluster.local   3000            outbound    EDS")
        .contains("BlackHoleCluster");

    out.getBuffer().setLength(0);
    assertThat(run("proxy-config", "listener", ID, "--control-plane", url)).isZero();
    assertThat(out.toString())
        .contains("0.0.0.0_3000      0.0.0.0   3000    Route: 3000")
        .contains("virtualOutbound   0.0.0.0   15001   Cluster: PassthroughCluster");

    out.getBuffer().setLength(0);
    assertThat(run("proxy-config", "listener", ID, "-o", "json", "--control-plane", url)).isZero();
    assertThat(out.toString()).startsWith("[ {").contains("\"name\" : \"virtualInbound\"");

    assertThat(
            run(
                "proxy-config",
                "cluster",
                "sidecar~1.2.3.4~nobody.x~x.svc.cluster.local",
                "--control-plane",
                url))
        .isEqualTo(1);
    assertThat(err.toString())
        .contains(
            "config_dump: proxy 'sidecar~1.2.3.4~nobody.x~x.svc.cluster.local' is not connected");
  }

  @Test
  void unreachableControlPlaneIsOneClearLine() {
    assertThat(run("proxy-status", "--control-plane", "http://127.0.0.1:1")).isEqualTo(1);
    assertThat(err.toString())
        .startsWith("bowline proxy-status: cannot reach the control plane at http://127.0.0.1:1");
  }
}
