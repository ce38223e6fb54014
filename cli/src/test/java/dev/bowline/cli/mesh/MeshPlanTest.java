package dev.bowline.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshPlanTest {
  static final String TWO_WORKLOADS =
      """
      workloads:
      - name: forecast-v1
        namespace: weather
        labels: {app: forecast, version: v1}
        ports: [{name: http-forecast, number: 3002}]
        replicas: 2
        role: forecast
      - name: recommendation-v1
        namespace: weather
        labels: {app: recommendation, version: v1}
        ports:
        - {name: http-recommendation, number: 3005, targetPort: 4005}
        - {name: grpc-recommendation, number: 3006}
        role: recommendation
      """;

  static MeshSpec spec() throws Exception {
    return MeshFile.parse(TWO_WORKLOADS, Path.of("mesh.yaml"));
  }

  @Test
  void oneLoopbackAddressPerInstanceInFileOrder() throws Exception {
    MeshPlan plan = MeshPlan.assign(spec(), "127.0.0.2", false);
    assertThat(plan.instances())
        .extracting(i -> i.name() + "@" + i.address())
        .containsExactly(
            "forecast-v1-0@127.0.0.2", "forecast-v1-1@127.0.0.3", "recommendation-v1-0@127.0.0.4");
    assertThat(plan.instances().get(1).nodeId())
        .isEqualTo("sidecar~127.0.0.3~forecast-v1-1.weather~weather.svc.cluster.local");
  }

  @Test
  void appPortsAreServicePortsUnmeshedAndTargetPortsBehindASidecar() throws Exception {
    MeshSpec.Workload rec = spec().workloads().get(1);
    MeshPlan direct = MeshPlan.assign(spec(), "127.0.0.2", false);
    MeshPlan meshed = MeshPlan.assign(spec(), "127.0.0.2", true);
    assertThat(rec.ports()).extracting(direct::appPort).containsExactly(3005, 3006);
    assertThat(rec.ports()).extracting(meshed::appPort).containsExactly(4005, 13006);
  }

  @Test
  void addressesMustBeLoopbackAndFitBefore255() throws Exception {
    assertThatThrownBy(() -> MeshPlan.assign(spec(), "10.0.0.1", false))
        .hasMessage("first address 10.0.0.1 is not a loopback address 127.x.y.z");
    assertThatThrownBy(() -> MeshPlan.assign(spec(), "localhost", false))
        .hasMessage("first address 'localhost' is not an IPv4 address");
    assertThatThrownBy(() -> MeshPlan.assign(spec(), "127.0.0.253", false))
        .hasMessage(
            "no loopback address left for weather/recommendation-v1 instance 0: instances from"
                + " 127.0.0.253 must fit before .255");
    assertThat(MeshPlan.assign(spec(), "127.0.5.252", false).instances().getLast().address())
        .isEqualTo("127.0.5.254");
  }

  @Test
  void aPortInUseIsNamedByWorkloadInstanceAndPort() throws Exception {
    MeshPlan plan = MeshPlan.assign(spec(), "127.0.0.231", true);
    assertThat(plan.portsInUse(List.of())).isEmpty();
    try (ServerSocket app = listen("127.0.0.232", 3002);
        ServerSocket sidecarAdmin = listen("127.0.0.233", 15000);
        ServerSocket behind = listen("127.0.0.233", 4005);
        ServerSocket cp = listen("127.0.0.230", 0)) {
      assertThat(plan.portsInUse(List.of(new InetSocketAddress("127.0.0.230", cp.getLocalPort()))))
          .containsExactly(
              "control plane: port 127.0.0.230:" + cp.getLocalPort() + " is already in use",
              "workload weather/forecast-v1 (instance forecast-v1-1): port http-forecast"
                  + " 127.0.0.232:3002 is already in use",
              "workload weather/recommendation-v1 (instance recommendation-v1-0): port"
                  + " http-recommendation 127.0.0.233:4005 is already in use",
              "workload weather/recommendation-v1 (instance recommendation-v1-0): sidecar port"
                  + " 127.0.0.233:15000 is already in use");
    }
    assertThat(plan.portsInUse(List.of())).isEmpty();
  }

  private static ServerSocket listen(String address, int port) throws Exception {
    ServerSocket s = new ServerSocket();
    s.bind(new InetSocketAddress(InetAddress.ofLiteral(address), port));
    return s;
  }
}
