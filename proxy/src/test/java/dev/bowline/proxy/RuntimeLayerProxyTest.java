package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bowline.proxy.bootstrap.BootstrapException;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.runtime.RuntimeValues;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bootstrap's {@code layered_runtime}, as Envoy's runtime loader reads it: static layers set
 * the runtime keys the proxy emulates (the premature-reset rule's two), later layers override
 * earlier ones, nested Struct keys join with dots, unknown keys are ignored, an admin layer is
 * accepted, and the layer kinds the proxy cannot serve are bootstrap errors naming the layer.
 */
class RuntimeLayerProxyTest {
  static final String IP = "127.0.7.90";
  static final int CANCEL = 8;

  static RuntimeValues values(String layers, List<String> errors) {
    var b =
        new BootstrapLoader()
            .parse("runtime.yaml", "layered_runtime:\n  layers:\n" + layers.indent(4));
    return RuntimeValues.of(b.getLayeredRuntime(), errors);
  }

  @Test
  void staticLayersSetTheKeysLaterLayersWinAndUnknownKeysAreIgnored() {
    List<String> errors = new ArrayList<>();
    assertThat(values("[]", errors)).isEqualTo(RuntimeValues.DEFAULT);
    var v =
        values(
            """
            - name: base
              static_layer:
                overload: {premature_reset_total_stream_count: 20, premature_reset_min_stream_lifetime_seconds: 7}
                some.unknown.key: whatever
                re2.max_program_size.error_level: 100
            - name: admin
              admin_layer: {}
            - name: override
              static_layer: {overload.premature_reset_min_stream_lifetime_seconds: "3"}
            """,
            errors);
    assertThat(errors).isEmpty();
    assertThat(v).isEqualTo(new RuntimeValues(20, 3));
    // values that are no non-negative integers keep Envoy's defaults, as its getInteger does
    assertThat(
            values(
                """
                - name: bad
                  static_layer:
                    overload.premature_reset_total_stream_count: -4
                    overload.premature_reset_min_stream_lifetime_seconds: 1.5
                """,
                errors))
        .isEqualTo(RuntimeValues.DEFAULT);
    assertThat(errors).isEmpty();
  }

  @Test
  void layersTheProxyCannotServeAreBootstrapErrorsNamingTheLayer() {
    List<String> errors = new ArrayList<>();
    values(
        """
        - name: disk
          disk_layer: {symlink_root: /srv/runtime/current}
        - name: rtds
          rtds_layer: {name: rtds, rtds_config: {ads: {}}}
        - name: empty
        - static_layer: {a: [1, 2]}
        """,
        errors);
    assertThat(errors)
        .containsExactly(
            "layered_runtime.layers[0].disk_layer: not supported (a static_layer or an admin_layer is)",
            "layered_runtime.layers[1].rtds_layer: not supported (a static_layer or an admin_layer is)",
            "layered_runtime.layers[2]: one of static_layer, disk_layer, admin_layer, rtds_layer is required",
            "layered_runtime.layers[3].name: required",
            "layered_runtime.layers[3].static_layer: invalid runtime entry value for a");
    assertThatThrownBy(
            () ->
                Proxy.start(
                    new BootstrapLoader()
                        .parse(
                            "disk.yaml",
                            "layered_runtime: {layers: [{name: d, disk_layer: {symlink_root: /x}}]}"),
                    ProxyOptions.defaults().withWorkers(1)))
        .isInstanceOf(BootstrapException.class)
        .hasMessageContaining("layered_runtime.layers[0].disk_layer: not supported");
  }

  @Test
  void theStaticLayersPrematureResetTotalStreamCountBoundsAConnection() throws Exception {
    var backend = new Backend("a", "127.0.7.91");
    var stall = ScriptedBackend.stall("127.0.7.92");
    int port = Ports.free(IP);
    try (SocketProxy proxy =
        SocketProxy.start(
            IP,
            ProxyOptions.defaults().withWorkers(1),
            false,
            """
            layered_runtime:
              layers:
              - name: static
                static_layer: {overload: {premature_reset_total_stream_count: 20}}
            """,
            List.of(
                SocketProxy.listener(
                    "rt",
                    IP,
                    port,
                    "codec_type: HTTP2",
                    SocketProxy.to("/hold", "stall"),
                    SocketProxy.to("/", "a"))),
            List.of(
                SocketProxy.cluster("stall", "127.0.7.92", stall.port(), ""),
                SocketProxy.cluster("a", backend.ip(), backend.port(), "")))) {
      try (RawH2 c = proxy.h2(port)) {
        // 9 premature of 10 closed: under half of 20
        c.frames(
            (w, x) -> {
              for (int s = 1; s < 2 * 9; s += 2) {
                w.writeHeaders(x, s, RawH2.request("GET", "/hold"), 0, true, x.newPromise());
                w.writeRstStream(x, s, CANCEL, x.newPromise());
              }
            });
        assertThat(PrematureResetProxyTest.get(c, 19, "/ok")).isEqualTo("200");
        assertThat(proxy.stat("http.rt.downstream_rq_too_many_premature_resets")).isZero();
        // the 10th: half of the layer's 20, where Envoy's default would wait for 250
        c.frames(
            (w, x) -> {
              w.writeHeaders(x, 21, RawH2.request("GET", "/hold"), 0, true, x.newPromise());
              w.writeRstStream(x, 21, CANCEL, x.newPromise());
            });
        assertThat(c.readUntil(RawH2.GOAWAY)).as("aborted without GOAWAY").isNull();
      }
      assertThat(proxy.stat("http.rt.downstream_rq_too_many_premature_resets")).isEqualTo(1);
    } finally {
      stall.close();
      backend.close();
    }
  }
}
