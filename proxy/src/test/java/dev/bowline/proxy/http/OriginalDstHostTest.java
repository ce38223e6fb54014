package dev.bowline.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.config.SocketAddr;
import org.junit.jupiter.api.Test;

/** Parsing {@code x-envoy-original-dst-host}: IP literals with a port only, as Envoy. */
class OriginalDstHostTest {
  @Test
  void ipLiteralsWithAPortOnly() {
    assertThat(HttpStream.originalDstHost("127.0.0.1:80"))
        .isEqualTo(new SocketAddr("127.0.0.1", 80));
    assertThat(HttpStream.originalDstHost("[::1]:8080"))
        .isEqualTo(new SocketAddr("0:0:0:0:0:0:0:1", 8080));
    for (String bad :
        new String[] {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:x", "::1:80", "host:80", ":80"}) {
      assertThat(HttpStream.originalDstHost(bad)).as(bad).isNull();
    }
    assertThat(HttpStream.originalDstHost(null)).isNull();
  }
}
