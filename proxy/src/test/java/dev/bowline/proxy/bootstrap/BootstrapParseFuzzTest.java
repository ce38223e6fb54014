package dev.bowline.proxy.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;

/**
 * The bootstrap's two parse paths agree on any text: where the fast path ({@link YamlMerge}) takes
 * an input, its message equals protobuf {@code JsonFormat}'s, and it takes nothing {@code
 * JsonFormat} rejects. Seeds in {@code BootstrapParseFuzzTestInputs/bothPathsAgree} are real
 * bootstraps, so the fuzzer mutates near-valid YAML and JSON.
 */
class BootstrapParseFuzzTest {
  private final BootstrapLoader loader = new BootstrapLoader();

  @FuzzTest(maxDuration = "10s")
  void bothPathsAgree(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    Bootstrap expected;
    try {
      expected = loader.parseWithJsonFormat("f.yaml", text);
    } catch (RuntimeException rejected) {
      Bootstrap fast;
      try {
        fast = loader.fastPath("f.yaml", text);
      } catch (RuntimeException alsoRejected) {
        assertThat(alsoRejected).isInstanceOf(rejected.getClass());
        return;
      }
      assertThat(fast)
          .as("JsonFormat rejects (%s), the fast path must not take it", rejected)
          .isNull();
      return;
    }
    Bootstrap fast = loader.fastPath("f.yaml", text);
    if (fast != null) {
      assertThat(fast).isEqualTo(expected);
    }
  }
}
