package dev.bowline.controlplane.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bowline.controlplane.dashboard.PrometheusText.Sample;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  @Test
  void readsSamplesLabelsEscapesAndSpecialValues() throws Exception {
    List<Sample> s =
        PrometheusText.parse(
            """
            # HELP istio_requests_total Total requests.
            # TYPE istio_requests_total counter
            istio_requests_total{reporter="source",source_workload="frontend-v1",response_code="200"} 25
            istio_request_duration_milliseconds_bucket{reporter="source",le="0.5"} 3
            istio_request_duration_milliseconds_bucket{reporter="source",le="+Inf"} 9 1700000000000
            istio_request_duration_milliseconds_sum{reporter="source"} 1.5E-4
            weird{path="a\\\\b \\"q\\" \\n end",empty=""} NaN
            up 1

            """,
            name -> true);
    assertThat(s).hasSize(6);
    assertThat(s.get(0))
        .isEqualTo(
            new Sample(
                "istio_requests_total",
                Map.of(
                    "reporter", "source", "source_workload", "frontend-v1", "response_code", "200"),
                25));
    assertThat(s.get(2).labels()).containsEntry("le", "+Inf");
    assertThat(s.get(2).value()).isEqualTo(9);
    assertThat(s.get(3).value()).isEqualTo(1.5e-4);
    assertThat(s.get(4).labels())
        .containsEntry("path", "a\\b \"q\" \n end")
        .containsEntry("empty", "");
    assertThat(s.get(4).value()).isNaN();
    assertThat(s.get(5)).isEqualTo(new Sample("up", Map.of(), 1));
  }

  @Test
  void skipsMetricsNotAskedFor() throws Exception {
    List<Sample> s =
        PrometheusText.parse(
            "envoy_cluster_upstream_cx_total{envoy_cluster_name=\"x\"} 3\nistio_requests_total 2\n",
            TrafficGraph::wanted);
    assertThat(s).extracting(Sample::name).containsExactly("istio_requests_total");
  }

  @Test
  void refusesMalformedLinesNamingTheLine() {
    assertThatThrownBy(() -> PrometheusText.parse("ok 1\nbad{a=\"1\" 2\n", n -> true))
        .hasMessage("line 2: bad: expected ',' or '}' after label a");
    assertThatThrownBy(() -> PrometheusText.parse("m{a=\"x} 1\n", n -> true))
        .hasMessage("line 1: m: label a: unterminated value");
    assertThatThrownBy(() -> PrometheusText.parse("m{a=\"\\t\"} 1\n", n -> true))
        .hasMessage("line 1: m: label a: unknown escape '\\t'");
    assertThatThrownBy(() -> PrometheusText.parse("m 0x1p3\n", n -> true))
        .hasMessage("line 1: m: value '0x1p3' is not a number");
    assertThatThrownBy(() -> PrometheusText.parse("m 1 2 3\n", n -> true))
        .hasMessage("line 1: m: unexpected text after the value and timestamp");
    assertThatThrownBy(() -> PrometheusText.parse("m{a=\"1\",a=\"2\"} 1\n", n -> true))
        .hasMessage("line 1: m: label a appears twice");
    assertThatThrownBy(() -> PrometheusText.parse("{a=\"1\"} 1\n", n -> true))
        .hasMessageStartingWith("line 1: expected a metric name");
    assertThatThrownBy(() -> PrometheusText.parse("m\n", n -> true))
        .hasMessage("line 1: m: expected a space and a value");
  }
}
