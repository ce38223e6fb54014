package dev.bowline.cli.mesh;

import dev.bowline.cli.mesh.MeshSpec.Gateway;
import dev.bowline.cli.mesh.MeshSpec.Port;
import dev.bowline.cli.mesh.Supervisor.Probe;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The gateway proxies of a mesh ({@code gateways:} in mesh.yaml, decision 0014): each is {@code
 * bowline proxy} from a {@code router~} bootstrap, admin on its address's port 15000, ready when
 * the admin says so and every port it should listen on accepts (those listeners come from the
 * Gateway resources that select it; without one it is reported, never silently used).
 */
final class IngressGateways {
  private IngressGateways() {}

  /** The ports a gateway needs free before the run: its listening ports and its admin. */
  static List<String> portsInUse(MeshSpec spec) {
    List<String> problems = new ArrayList<>();
    for (Gateway g : spec.gateways()) {
      List<Integer> ports = new ArrayList<>();
      g.ports().forEach(p -> ports.add(Gateway.listenPort(p)));
      ports.add(15000);
      for (int port : ports) {
        if (MeshPlan.inUse(g.address(), port)) {
          problems.add(
              "gateway "
                  + g.namespace()
                  + "/"
                  + g.name()
                  + ": port "
                  + g.address()
                  + ":"
                  + port
                  + " is already in use");
        }
      }
    }
    return problems;
  }

  /** Where the gateway's bootstrap and log go. */
  static Path dir(Path runDir, Gateway g) {
    return runDir.resolve(g.instanceName() + "." + g.namespace());
  }

  /** Writes the gateway's bootstrap. */
  static void writeBootstrap(
      Path runDir,
      Gateway g,
      String xdsHost,
      int xdsPort,
      java.nio.file.@org.jspecify.annotations.Nullable Path sdsSocket)
      throws IOException {
    Path dir = dir(runDir, g);
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("bootstrap.yaml"), SidecarBootstrap.gateway(g, xdsHost, xdsPort, sdsSocket));
  }

  /** {@code bowline proxy -c <run dir>/<gateway>.<ns>/bootstrap.yaml}, with the sidecars' flags. */
  static Supervisor.Spec spec(Path runDir, Gateway g, BowlineJvm jvm) {
    Path dir = dir(runDir, g);
    List<Probe> probes = new ArrayList<>();
    probes.add(new Probe.Http(URI.create("http://" + g.address() + ":15000/ready")));
    for (Port p : g.ports()) {
      probes.add(new Probe.Tcp(g.address(), Gateway.listenPort(p)));
    }
    return new Supervisor.Spec(
        "gateway=" + g.namespace() + "/" + g.name(),
        jvm.proxy(
            "gateway",
            MeshRunner.SIDECAR_FLAGS,
            List.of(
                "-c",
                dir.resolve("bootstrap.yaml").toString(),
                "--concurrency",
                "1",
                "--drain-time-s",
                MeshRunner.PROXY_DRAIN_SECONDS)),
        Map.of(),
        dir,
        dir.resolve("gateway.log"),
        new Probe.All(probes));
  }

  /** The URL of each HTTP port of {@code g}: {@code http://127.0.0.1:8080/}. */
  static List<URI> urls(Gateway g) {
    List<URI> out = new ArrayList<>();
    for (Port p : g.ports()) {
      String protocol = MeshFile.protocolOf(p.name());
      if (protocol != null && (protocol.equals("http") || protocol.equals("http2"))) {
        out.add(URI.create("http://" + g.address() + ":" + Gateway.listenPort(p) + "/"));
      }
    }
    return out;
  }
}
