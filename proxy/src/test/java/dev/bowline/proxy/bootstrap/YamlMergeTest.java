package dev.bowline.proxy.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast path ({@link YamlMerge}) and protobuf's {@code JsonFormat} path of {@link
 * BootstrapLoader} give equal messages, and the fast path never accepts what {@code JsonFormat}
 * rejects.
 */
class YamlMergeTest {
  private final BootstrapLoader loader = new BootstrapLoader();

  /** Both paths on {@code text}: equal results, or the fast path gave up. */
  private Outcome compare(String text) {
    Bootstrap viaJson;
    try {
      viaJson = loader.parseWithJsonFormat("t.yaml", text);
    } catch (BootstrapException e) {
      assertThat(loader.fastPath("t.yaml", text))
          .as("JsonFormat rejects, fast path too:\n%s", text)
          .isNull();
      return Outcome.REJECTED;
    }
    Bootstrap fast = loader.fastPath("t.yaml", text);
    if (fast == null) {
      return Outcome.FELL_BACK;
    }
    assertThat(fast).as("same message for:\n%s", text).isEqualTo(viaJson);
    assertThat(loader.parse("t.yaml", text)).isEqualTo(viaJson);
    return Outcome.FAST;
  }

  enum Outcome {
    FAST,
    FELL_BACK,
    REJECTED
  }

  @Test
  void theBootstrapsWeShipTakeTheFastPathAndEqualJsonFormat() throws Exception {
    String rbac = Files.readString(Path.of("../bench/rbac-rps-bootstrap.yaml"));
    assertThat(compare(rbac)).isEqualTo(Outcome.FAST);
    assertThat(compare(BootstrapLoaderTest.YAML)).isEqualTo(Outcome.FAST);
    String withMetadata =
        """
        node:
          id: sidecar~10.0.0.1~a.default~default.svc.cluster.local
          cluster: a.default
          metadata: {NAME: a, LABELS: {app: a, version: v1}, PORTS: [8080, 9090], MESH: true, RATIO: 0.5, NONE: null}
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 15000}}
        static_resources:
          clusters:
          - name: xds
            type: STATIC
            connect_timeout: 1.5s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 100}}
                common_http_protocol_options: {idle_timeout: 300s, max_headers_count: 0x40}
            circuit_breakers: {thresholds: [{priority: HIGH, max_connections: 1_000, max_retries: 3}]}
            load_assignment:
              cluster_name: xds
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 15010}}}
                  load_balancing_weight: 2
            outlier_detection: {consecutive_5xx: 5, base_ejection_time: 30s}
            lbPolicy: LEAST_REQUEST
        dynamic_resources:
          ads_config: {api_type: DELTA_GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
          lds_config: {ads: {}, resource_api_version: V3}
          cds_config: {ads: {}, resource_api_version: V3}
        layered_runtime:
          layers:
          - name: static
            static_layer: {overload.premature_reset_total_stream_count: 500, re2.max_program_size.error_level: 1e3}
        """;
    assertThat(compare(withMetadata)).isEqualTo(Outcome.FAST);
  }

  @Test
  void whatJsonFormatReadsThroughBigDecimalOrRejectsFallsBack() {
    // "1e3" in an integer field: JsonFormat reads it through BigDecimal
    assertThat(
            compare(
                "stats_flush_interval: 5s\nadmin: {address: {socket_address: {port_value: 1e3}}}"))
        .isNotEqualTo(Outcome.FAST);
    // an unknown field: JsonFormat's error is the one users see
    assertThat(compare("node: {clustr: c}")).isEqualTo(Outcome.REJECTED);
    assertThat(loader.fastPath("t.yaml", "node: {clustr: c}")).isNull();
    // a field set twice, under its proto and JSON names
    assertThat(compare("node: {user_agent_name: a, userAgentName: b}")).isNotEqualTo(Outcome.FAST);
    // a oneof set twice
    assertThat(
            compare(
                "node: {user_agent_version: v, user_agent_build_version: {version: {major_number: 1}}}"))
        .isNotEqualTo(Outcome.FAST);
  }

  /**
   * Random bootstraps over the descriptors of {@code Bootstrap}, with scalars of every shape YAML
   * allows (plain numbers in several bases, floats, booleans, nulls, quoted and unquoted text,
   * durations), proto and JSON field names, the odd unknown or repeated field: the fast path is
   * equal to JsonFormat whenever it takes an input, and takes most of the valid ones.
   */
  @Test
  void randomBootstrapsEqualJsonFormat() {
    Random random = new Random(20261127);
    int fast = 0;
    int fellBack = 0;
    int rejected = 0;
    for (int i = 0; i < 3000; i++) {
      StringBuilder yaml = new StringBuilder();
      new Generator(random).message(Bootstrap.getDescriptor(), yaml, 0);
      switch (compare(yaml.toString())) {
        case FAST -> fast++;
        case FELL_BACK -> fellBack++;
        case REJECTED -> rejected++;
      }
    }
    assertThat(fast)
        .as("fast %d, fell back %d, rejected %d", fast, fellBack, rejected)
        .isGreaterThan(1000);
    assertThat(rejected).isGreaterThan(1000);
  }

  /** Writes random YAML (flow style) for a message type. */
  private record Generator(Random random) {
    private static final List<String> SCALARS =
        List.of(
            "0",
            "-1",
            "42",
            "007",
            "0x1F",
            "0b101",
            "1_000",
            "+5",
            "4294967295",
            "4294967296",
            "2147483648",
            "-2147483649",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "1.5",
            "-0.25",
            "1e3",
            "1.0",
            ".5",
            "5.",
            "3.4e38",
            "3.5e38",
            "1.8e308",
            ".inf",
            "-.inf",
            ".nan",
            "yes",
            "no",
            "on",
            "off",
            "true",
            "false",
            "~",
            "null",
            "'quoted'",
            "\"123\"",
            "\"true\"",
            "\"NaN\"",
            "\"Infinity\"",
            "abc",
            "1:30",
            "\"1.5s\"",
            "2s",
            "1.000000001s",
            "-3s",
            "0.5s",
            "10",
            "\"-\"",
            "''");

    private String scalar() {
      return SCALARS.get(random.nextInt(SCALARS.size()));
    }

    void message(Descriptor type, StringBuilder out, int depth) {
      String full = type.getFullName();
      if (full.equals("google.protobuf.Duration")) {
        out.append(
            random.nextInt(4) == 0
                ? scalar()
                : List.of("1s", "1.5s", "0s", "250ms", "-2s").get(random.nextInt(5)));
        return;
      }
      if (full.equals("google.protobuf.Struct")) {
        out.append("{a: ")
            .append(scalar())
            .append(", b: [")
            .append(scalar())
            .append(", {c: ")
            .append(scalar())
            .append("}]}");
        return;
      }
      if (full.equals("google.protobuf.Value")) {
        out.append(random.nextBoolean() ? scalar() : "{x: " + scalar() + "}");
        return;
      }
      if (full.equals("google.protobuf.Any")) {
        String url =
            List.of(
                    "envoy.extensions.filters.http.router.v3.Router",
                    "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "envoy.extensions.access_loggers.file.v3.FileAccessLog",
                    "google.protobuf.StringValue",
                    "no.such.Type")
                .get(random.nextInt(6));
        out.append("{\"@type\": type.googleapis.com/").append(url);
        Descriptor content = url.startsWith("envoy") ? SupportedTypes.descriptor(url) : null;
        if (content != null && depth < 4) {
          out.append(", ");
          fields(content, out, depth + 1);
        }
        out.append('}');
        return;
      }
      if (full.startsWith("google.protobuf.") && full.endsWith("Value")) {
        out.append(scalar());
        return;
      }
      out.append('{');
      if (depth < 4) {
        fields(type, out, depth);
      }
      out.append('}');
    }

    private void fields(Descriptor type, StringBuilder out, int depth) {
      List<FieldDescriptor> fields = type.getFields();
      int n = fields.isEmpty() ? 0 : random.nextInt(4);
      for (int i = 0; i < n; i++) {
        if (i > 0) {
          out.append(", ");
        }
        if (random.nextInt(40) == 0) {
          out.append("no_such_field: 1");
          continue;
        }
        FieldDescriptor f = fields.get(random.nextInt(fields.size()));
        out.append(random.nextBoolean() ? f.getName() : f.getJsonName()).append(": ");
        if (f.isMapField()) {
          out.append("{k1: ");
          value(f.getMessageType().findFieldByNumber(2), out, depth + 1);
          out.append('}');
        } else if (f.isRepeated() && random.nextInt(10) != 0) {
          out.append('[');
          int items = random.nextInt(3);
          for (int j = 0; j < items; j++) {
            if (j > 0) {
              out.append(", ");
            }
            value(f, out, depth + 1);
          }
          out.append(']');
        } else {
          value(f, out, depth + 1);
        }
      }
    }

    private void value(FieldDescriptor f, StringBuilder out, int depth) {
      switch (f.getJavaType()) {
        case MESSAGE -> message(f.getMessageType(), out, depth);
        case ENUM -> {
          List<EnumValueDescriptor> values = f.getEnumType().getValues();
          out.append(
              switch (random.nextInt(4)) {
                case 0 -> scalar();
                case 1 -> String.valueOf(values.get(random.nextInt(values.size())).getNumber());
                default -> values.get(random.nextInt(values.size())).getName();
              });
        }
        default -> out.append(scalar());
      }
    }
  }
}
