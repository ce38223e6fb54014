package dev.bowline.controlplane.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryFileWatcherTest {
  @Test
  void reloadsOnChangeAndKeepsTheLastGoodOnError(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("registry.yaml");
    Files.writeString(file, LocalRegistryTest.YAML);
    LocalRegistry registry = new LocalRegistry("cluster.local");
    try (RegistryFileWatcher w = RegistryFileWatcher.start(file, registry)) {
      assertThat(registry.snapshot().endpoints("forecast.weather.svc.cluster.local", 8080))
          .hasSize(2);

      Files.writeString(file, LocalRegistryTest.YAML.replace("127.0.0.12", "127.0.0.99"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> registry.snapshot().instancesAt("127.0.0.99").size() == 2);

      long version = registry.snapshot().version();
      Files.writeString(file, "workloads:\n- namespace: weather\n  name: x\n  address: nope\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> w.lastError() != null);
      assertThat(w.lastError()).contains("workloads[0].address: 'nope' is not an IP address");
      assertThat(registry.snapshot().version()).isEqualTo(version);
      assertThat(registry.snapshot().instancesAt("127.0.0.99")).hasSize(2);
    }
  }
}
