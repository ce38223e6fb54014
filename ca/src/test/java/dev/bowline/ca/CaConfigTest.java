package dev.bowline.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CaConfigTest {
  private final CaConfig defaults = CaConfig.defaults(new RootSource.SelfSigned(Path.of("ca")));

  @Test
  void defaultsAreIstios() {
    assertThat(defaults.trustDomain()).isEqualTo("cluster.local");
    assertThat(defaults.defaultTtl()).isEqualTo(Duration.ofHours(24));
    assertThat(defaults.maxTtl()).isEqualTo(Duration.ofDays(90));
    assertThat(CaServerConfig.defaults("127.0.0.1").port()).isEqualTo(15012);
  }

  @Test
  void badValuesNameTheField() {
    assertThatThrownBy(() -> defaults.withTrustDomain("my domain"))
        .hasMessageStartingWith("CaConfig.trustDomain: trust domain 'my domain' has a character");
    assertThatThrownBy(() -> defaults.withTtls(Duration.ZERO, Duration.ofDays(1)))
        .hasMessage("CaConfig.defaultTtl: must be positive, was PT0S");
    assertThatThrownBy(() -> defaults.withTtls(Duration.ofDays(2), Duration.ofDays(1)))
        .hasMessage("CaConfig.maxTtl: must be >= defaultTtl (PT48H), was PT24H");
    assertThatThrownBy(() -> CaServerConfig.defaults("127.0.0.1").withPort(70000))
        .hasMessage("CaServerConfig.port: must be 0-65535, was 70000");
  }
}
