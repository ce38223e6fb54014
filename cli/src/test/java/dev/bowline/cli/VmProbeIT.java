package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.ControlPlaneOptions;
import dev.bowline.controlplane.config.ConfigFeed;
import dev.bowline.controlplane.model.ConfigInputs;
import dev.bowline.controlplane.registry.HealthStatus;
import dev.bowline.controlplane.registry.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM's {@code bowline proxy} process with {@code --app-probe} (what istioctl hands a VM's agent
 * from the WorkloadGroup's probe): it auto-registers from the group, probes its app and reports
 * over its ADS stream, and the control plane marks the WorkloadEntry's endpoint UNHEALTHY while the
 * app fails its probe and HEALTHY again when it passes.
 */
class VmProbeIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String VM_IP = TestNet.ip("127.0.0.93");

  @TempDir Path dir;
  final List<AutoCloseable> closing = new ArrayList<>();
  Process vm;

  @AfterEach
  void stop() throws Exception {
    if (vm != null) {
      vm.destroyForcibly();
      vm.waitFor(10, TimeUnit.SECONDS);
    }
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
  }

  @Test
  void theProxyProcessProbesItsAppAndTheControlPlaneFollowsItsHealth() throws Exception {
    WorkloadHealthTest helper = new WorkloadHealthTest();
    int appPort = WorkloadHealthTest.freePort(VM_IP);
    int svcPort = WorkloadHealthTest.freePort(VM_IP);
    AtomicBoolean healthy = new AtomicBoolean(true);
    helper.app(VM_IP, appPort, "vm", healthy);
    closing.add(() -> helper.probes.shutdownNow());
    closing.addAll(helper.closing);
    Path config = Files.createDirectories(dir.resolve("config"));
    Files.writeString(config.resolve("vm.yaml"), WorkloadHealthTest.vmGroup(appPort, svcPort));
    ControlPlane controlPlane =
        new ControlPlane(
            ControlPlaneOptions.DEFAULTS
                .withPorts(0, 0)
                .withDebounce(Duration.ofMillis(20), Duration.ofSeconds(1)),
            new LocalRegistry("cluster.local"),
            ConfigInputs.NONE,
            Clock.systemUTC());
    closing.add(controlPlane);
    closing.add(ConfigFeed.start(controlPlane, List.of(config), Clock.systemUTC()));
    controlPlane.start();

    int admin = WorkloadHealthTest.freePort(VM_IP);
    Path bootstrap = dir.resolve("vm-bootstrap.yaml");
    Files.writeString(
        bootstrap,
        WorkloadHealthTest.bootstrap(
            VM_IP, "vm-93", "{}", "vm", admin, controlPlane.xdsPort(), "GRPC"));
    vm =
        new ProcessBuilder(
                ROOT.resolve("bowline").toString(),
                "proxy",
                "-c",
                bootstrap.toString(),
                "--concurrency",
                "1",
                "--app-probe",
                "http://" + VM_IP + ":" + appPort + "/healthz",
                "--app-probe-period-s",
                "1",
                "--app-probe-failure-threshold",
                "1")
            .directory(ROOT.toFile())
            .redirectOutput(dir.resolve("out.txt").toFile())
            .redirectError(dir.resolve("err.txt").toFile())
            .start();

    // registered from the group while connected; its first passing probe says healthy
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () -> WorkloadHealthTest.health(controlPlane, VM_IP, svcPort) == HealthStatus.HEALTHY);
    healthy.set(false);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                WorkloadHealthTest.health(controlPlane, VM_IP, svcPort) == HealthStatus.UNHEALTHY);
    healthy.set(true);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> WorkloadHealthTest.health(controlPlane, VM_IP, svcPort) == HealthStatus.HEALTHY);
    assertThat(vm.isAlive()).as("the proxy process still runs").isTrue();
  }
}
