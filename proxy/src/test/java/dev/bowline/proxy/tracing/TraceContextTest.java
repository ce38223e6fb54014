package dev.bowline.proxy.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

class TraceContextTest {
  static HttpHeaders headers(String... kv) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i < kv.length; i += 2) {
      h.add(kv[i], kv[i + 1]);
    }
    return h;
  }

  @Test
  void readsW3cTraceparentAndTracestate() {
    TraceContext c =
        TraceContext.extract(
            headers(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "tracestate",
                "congo=t61rcWkgMzE"),
            true);
    assertThat(c).isNotNull();
    assertThat(TraceContext.traceIdHex(c.traceIdHigh(), c.traceIdLow()))
        .isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(TraceContext.hex16(c.spanId())).isEqualTo("b7ad6b7169203331");
    assertThat(c.sampled()).isTrue();
    assertThat(c.traceState()).isEqualTo("congo=t61rcWkgMzE");
  }

  @Test
  void refusesMalformedTraceparents() {
    for (String bad :
        new String[] {
          "00-00000000000000000000000000000000-b7ad6b7169203331-01", // zero trace id
          "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // zero span id
          "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // version ff
          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", // 00 with a suffix
          "00-0af7651916cd43dd8448eb211c8031zz-b7ad6b7169203331-01", // not hex
          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01" // short span id
        }) {
      assertThat(TraceContext.extract(headers("traceparent", bad), true)).as(bad).isNull();
    }
  }

  @Test
  void readsB3MultiAndSingleHeaders() {
    TraceContext multi =
        TraceContext.extract(
            headers(
                "x-b3-traceid", "463ac35c9f6413ad",
                "x-b3-spanid", "a2fb4a1d1a96d312",
                "x-b3-parentspanid", "0020000000000001",
                "x-b3-sampled", "1"),
            false);
    assertThat(multi).isNotNull();
    assertThat(multi.traceIdHigh()).isZero();
    assertThat(TraceContext.hex16(multi.traceIdLow())).isEqualTo("463ac35c9f6413ad");
    assertThat(TraceContext.hex16(multi.parentSpanId())).isEqualTo("0020000000000001");
    assertThat(multi.sampled()).isTrue();

    TraceContext single =
        TraceContext.extract(
            headers("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d"), false);
    assertThat(single).isNotNull();
    assertThat(TraceContext.traceIdHex(single.traceIdHigh(), single.traceIdLow()))
        .isEqualTo("80f198ee56343ba864fe8b2a57d3eff7");
    assertThat(single.sampled()).isTrue(); // debug samples
    assertThat(TraceContext.extract(headers("b3", "0"), false)).isNull(); // a decision, no context
    assertThat(TraceContext.incomingSampled(headers("b3", "0"))).isZero();
  }

  @Test
  void eachProviderPrefersItsFormatButAcceptsTheOther() {
    HttpHeaders both =
        headers(
            "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "x-b3-traceid", "463ac35c9f6413ad",
            "x-b3-spanid", "a2fb4a1d1a96d312");
    assertThat(TraceContext.hex16(TraceContext.extract(both, true).spanId()))
        .isEqualTo("b7ad6b7169203331");
    assertThat(TraceContext.hex16(TraceContext.extract(both, false).spanId()))
        .isEqualTo("a2fb4a1d1a96d312");
    HttpHeaders b3Only =
        headers("x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312");
    assertThat(TraceContext.extract(b3Only, true)).isNotNull();
  }

  @Test
  void incomingSampledReadsEveryFormatWithoutAContext() {
    assertThat(
            TraceContext.incomingSampled(
                headers("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")))
        .isZero();
    assertThat(TraceContext.incomingSampled(headers("x-b3-sampled", "true"))).isOne();
    assertThat(TraceContext.incomingSampled(headers("x-b3-flags", "1"))).isOne();
    assertThat(TraceContext.incomingSampled(headers())).isEqualTo(-1);
  }

  @Test
  void injectsEachFormat() {
    HttpHeaders h = headers("b3", "1");
    TraceContext.injectB3(h, 0, 0x463ac35c9f6413adL, 0xa2fb4a1d1a96d312L, 0x20L, true);
    assertThat(h.get("x-b3-traceid")).isEqualTo("463ac35c9f6413ad");
    assertThat(h.get("x-b3-parentspanid")).isEqualTo("0000000000000020");
    assertThat(h.get("x-b3-sampled")).isEqualTo("1");
    assertThat(h.contains("b3")).isFalse();
    HttpHeaders w = headers();
    TraceContext.injectW3c(w, 1, 2, 3, true, "a=b");
    assertThat(w.get("traceparent"))
        .isEqualTo("00-00000000000000010000000000000002-0000000000000003-01");
    assertThat(w.get("tracestate")).isEqualTo("a=b");
  }
}
