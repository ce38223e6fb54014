package dev.bowline.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GrpcTimeoutTest {
  @Test
  void readsEveryUnitOfTheGrpcSpecAndRoundsSubMillisecondsUp() {
    assertThat(GrpcTimeout.parseMillis("2H")).isEqualTo(7_200_000);
    assertThat(GrpcTimeout.parseMillis("3M")).isEqualTo(180_000);
    assertThat(GrpcTimeout.parseMillis("5S")).isEqualTo(5_000);
    assertThat(GrpcTimeout.parseMillis("250m")).isEqualTo(250);
    assertThat(GrpcTimeout.parseMillis("1500u")).isEqualTo(2);
    assertThat(GrpcTimeout.parseMillis("1n")).isEqualTo(1);
    assertThat(GrpcTimeout.parseMillis("99999999S")).isEqualTo(99_999_999_000L);
  }

  @Test
  void malformedOrMissingIsNoTimeout() {
    assertThat(GrpcTimeout.parseMillis(null)).isZero();
    assertThat(GrpcTimeout.parseMillis("")).isZero();
    assertThat(GrpcTimeout.parseMillis("S")).isZero();
    assertThat(GrpcTimeout.parseMillis("10")).isZero();
    assertThat(GrpcTimeout.parseMillis("10s")).isZero();
    assertThat(GrpcTimeout.parseMillis("-1S")).isZero();
    assertThat(GrpcTimeout.parseMillis("123456789S")).isZero(); // nine digits
  }

  @Test
  void capsAtTheMaximumAndTakesTheOffsetOffWithoutReachingZero() {
    assertThat(GrpcTimeout.routeMillis("200m", 0, 0)).isEqualTo(200);
    assertThat(GrpcTimeout.routeMillis(null, 0, 0)).isZero();
    assertThat(GrpcTimeout.routeMillis(null, 300, 0)).isEqualTo(300);
    assertThat(GrpcTimeout.routeMillis("10S", 300, 0)).isEqualTo(300);
    assertThat(GrpcTimeout.routeMillis("100m", 300, 0)).isEqualTo(100);
    assertThat(GrpcTimeout.routeMillis("100m", 0, 30)).isEqualTo(70);
    assertThat(GrpcTimeout.routeMillis("20m", 0, 30)).isEqualTo(20);
  }
}
