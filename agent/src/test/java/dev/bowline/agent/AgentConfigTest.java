package dev.bowline.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bowline.ca.WorkloadIdentity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {
  private static final WorkloadIdentity ID = new WorkloadIdentity("cluster.local", "a", "b");
  @TempDir Path dir;

  private AgentConfig defaults() {
    return AgentConfig.defaults(ID, "127.0.0.1", 15012, new CaTrust.PemFile(dir.resolve("x")), "t");
  }

  @Test
  void defaultsAreIstiosAndBadFieldsAreNamed() {
    AgentConfig c = defaults();
    assertThat(c.rotationFraction()).isEqualTo(0.8);
    assertThat(c.keyAlgorithm()).isEqualTo(KeyAlgorithm.EC_P256);
    assertThat(c.caServerName()).isEqualTo("istiod.istio-system.svc");
    assertThat(c.requestedTtl()).isZero();
    assertThat(AgentConfig.defaults(ID, "h", 1, c.caTrust(), "s3cret").toString())
        .doesNotContain("s3cret")
        .contains("token=<redacted>");

    assertThatThrownBy(() -> c.withRequestedTtl(Duration.ofSeconds(-1)))
        .hasMessage("AgentConfig.requestedTtl: must be zero (CA default) or positive, was PT-1S");
    assertThatThrownBy(() -> c.withRetry(Duration.ofSeconds(5), Duration.ofSeconds(1)))
        .hasMessage("AgentConfig.retryMax: must be >= retryInitial (PT5S), was PT1S");
    assertThatThrownBy(() -> AgentConfig.defaults(ID, "127.0.0.1", 0, c.caTrust(), "t"))
        .hasMessage("AgentConfig.caPort: must be 1-65535, was 0");
    assertThatThrownBy(
            () ->
                new AgentConfig(
                    ID,
                    "h",
                    1,
                    "n",
                    c.caTrust(),
                    "t",
                    Duration.ZERO,
                    KeyAlgorithm.EC_P256,
                    1.0,
                    0.05,
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(1)))
        .hasMessage("AgentConfig.rotationFraction: must be in (0, 1), was 1.0");
  }

  @Test
  void aRootFileThatIsNotPemIsNamed() throws IOException {
    Path file = Files.writeString(dir.resolve("root-cert.pem"), "not a certificate");
    assertThatThrownBy(() -> new CaTrust.PemFile(file).roots())
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith(file + ": ");
    Path empty = Files.writeString(dir.resolve("empty.pem"), "");
    assertThatThrownBy(() -> new CaTrust.PemFile(empty).roots())
        .hasMessageStartingWith(empty.toString());
  }
}
