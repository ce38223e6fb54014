package dev.bowline.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.AsciiString;
import org.junit.jupiter.api.Test;

class UpstreamServiceTimeTest {
  @Test
  void smallServiceTimesAreSharedValues() {
    for (long ms = 0; ms < 256; ms++) {
      CharSequence value = HttpStream.millisValue(ms);
      assertThat(value).hasToString(Long.toString(ms)).isSameAs(HttpStream.millisValue(ms));
    }
  }

  /**
   * A slow response's value is the same class as the shared ones: a String here once sent the
   * header map's compiled encode path into uncommon traps (decision 0037, addendum 13).
   */
  @Test
  void slowServiceTimesAreAsciiStringsToo() {
    for (long ms : new long[] {256, 999, 1_000, 120_001, Long.MAX_VALUE, -1}) {
      CharSequence value = HttpStream.millisValue(ms);
      assertThat(value).isInstanceOf(AsciiString.class).hasToString(Long.toString(ms));
    }
  }
}
