package dev.bowline.proxy.lb;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class XxHash64Test {
  /** Reference values of XXH64 (from the xxHash project's published test vectors). */
  @Test
  void matchesTheReferenceVectors() {
    assertThat(XxHash64.hash("", 0)).isEqualTo(0xEF46DB3751D8E999L);
    assertThat(XxHash64.hash("a", 0)).isEqualTo(0xD24EC4F1A98C6E5BL);
    assertThat(XxHash64.hash("abc", 0)).isEqualTo(0x44BC2CF5AD770999L);
    assertThat(XxHash64.hash("Nobody inspects the spammish repetition", 0))
        .isEqualTo(0xFBCEA83C8A378BF1L);
  }

  @Test
  void seedChangesTheHash() {
    assertThat(XxHash64.hash("127.0.0.1:80", 1)).isNotEqualTo(XxHash64.hash("127.0.0.1:80", 0));
  }
}
