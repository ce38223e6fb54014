package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link LazyHeaders}: an empty map until written, then Netty's trailers map with its rules. */
class LazyHeadersTest {
  @Test
  void emptyUntilWrittenThenAnOrdinaryMap() {
    LazyHeaders h = new LazyHeaders();
    assertThat(h.isEmpty()).isTrue();
    assertThat(h.size()).isZero();
    assertThat(h.get("grpc-status")).isNull();
    assertThat(h.getInt("grpc-status", 7)).isEqualTo(7);
    assertThat(h.contains("grpc-status")).isFalse();
    assertThat(h.iteratorCharSequence().hasNext()).isFalse();
    assertThat(h.copy().isEmpty()).isTrue();
    h.remove("grpc-status").clear();
    assertThat(h.isEmpty()).isTrue();

    h.add("grpc-status", "0").add("x-trailer", "a").add("x-trailer", "b");
    assertThat(h.isEmpty()).isFalse();
    assertThat(h.size()).isEqualTo(3);
    assertThat(h.getInt("grpc-status")).isZero();
    assertThat(h.getAll("x-trailer")).isEqualTo(List.of("a", "b"));
    assertThat(h.copy().getAll("x-trailer")).isEqualTo(List.of("a", "b"));
    h.remove("x-trailer");
    assertThat(h.names()).containsExactly("grpc-status");
  }

  @Test
  void trailerNamesAreValidatedAsNettysTrailersAre() {
    // framing headers are not allowed as trailers (Netty's trailers factory)
    assertThatThrownBy(() -> new LazyHeaders().add("content-length", "1"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
