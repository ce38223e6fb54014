package dev.bowline.proxy.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.config.HashPolicy;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RequestHashTest {
  private static Long hash(List<HashPolicy> p, HttpHeaders h, String uri, List<String> cookies) {
    return RequestHash.compute(p, h, uri, "10.1.2.3", "10.1.2.3:5555", "10.9.9.9:80", cookies::add);
  }

  @Test
  void eachInputHashesItsValue() {
    var h = new DefaultHttpHeaders().set("x-user", "alice").set("cookie", "a=1; session=s1");
    List<String> set = new ArrayList<>();
    assertThat(hash(List.of(new HashPolicy.Header("x-user", false)), h, "/", set))
        .isEqualTo(XxHash64.hash("alice", 0));
    assertThat(hash(List.of(new HashPolicy.SourceIp(false)), h, "/", set))
        .isEqualTo(XxHash64.hash("10.1.2.3", 0));
    assertThat(hash(List.of(new HashPolicy.QueryParameter("u", false)), h, "/p?x=1&u=bob", set))
        .isEqualTo(XxHash64.hash("bob", 0));
    assertThat(
            hash(
                List.of(
                    new HashPolicy.Cookie("session", Optional.empty(), Optional.empty(), false)),
                h,
                "/",
                set))
        .isEqualTo(XxHash64.hash("s1", 0));
    assertThat(set).isEmpty();
  }

  @Test
  void missingInputsGiveNoHashAndTerminalStopsTheList() {
    var h = new DefaultHttpHeaders().set("x-a", "1").set("x-b", "2");
    List<String> set = new ArrayList<>();
    assertThat(hash(List.of(new HashPolicy.Header("x-none", false)), h, "/", set)).isNull();
    long a = XxHash64.hash("1", 0);
    long b = XxHash64.hash("2", 0);
    assertThat(
            hash(
                List.of(new HashPolicy.Header("x-a", false), new HashPolicy.Header("x-b", false)),
                h,
                "/",
                set))
        .isEqualTo(Long.rotateLeft(a, 1) ^ b);
    assertThat(
            hash(
                List.of(new HashPolicy.Header("x-a", true), new HashPolicy.Header("x-b", false)),
                h,
                "/",
                set))
        .isEqualTo(a);
    // a terminal entry that found nothing does not stop the list
    assertThat(
            hash(
                List.of(new HashPolicy.Header("x-none", true), new HashPolicy.Header("x-b", false)),
                h,
                "/",
                set))
        .isEqualTo(b);
  }

  @Test
  void anAbsentCookieWithTtlIsGeneratedFromTheConnection() {
    List<String> set = new ArrayList<>();
    var policy =
        new HashPolicy.Cookie(
            "lb", Optional.of(Duration.ofSeconds(60)), Optional.of("/app"), false);
    Long h = hash(List.of(policy), new DefaultHttpHeaders(), "/", set);
    String value = String.format("%016x", XxHash64.hash("10.1.2.3:5555" + "10.9.9.9:80", 0));
    assertThat(h).isEqualTo(XxHash64.hash(value, 0));
    assertThat(set).containsExactly("lb=\"" + value + "\"; Max-Age=60; Path=/app; HttpOnly");
    // without a TTL nothing is generated
    set.clear();
    assertThat(
            hash(
                List.of(new HashPolicy.Cookie("lb", Optional.empty(), Optional.empty(), false)),
                new DefaultHttpHeaders(),
                "/",
                set))
        .isNull();
    assertThat(set).isEmpty();
  }
}
