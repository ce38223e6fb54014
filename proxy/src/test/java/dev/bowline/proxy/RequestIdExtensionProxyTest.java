package dev.bowline.proxy;

import static dev.bowline.proxy.ClientAddressProxyTest.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection manager's {@code request_id_extension} (Envoy's UUID extension, {@code
 * UuidRequestIdConfig}, which Istio's tracing sets): {@code pack_trace_reason: false} leaves the
 * {@code x-request-id} as it came (no trace digit written, none cleared on an edge that preserves
 * it) while the trace decision is still made and counted; {@code use_request_id_for_trace_sampling:
 * false} makes no decision from the id (Envoy reports {@code Sampling}: traced, counted as random
 * sampling, the id untouched); a type other than the UUID one is refused. An HTTP/1 backend on
 * 127.0.7.196 echoes the head it got; Zipkin's collector (127.0.7.197) listens nowhere, so spans
 * are dropped.
 */
class RequestIdExtensionProxyTest {
  static final String IP = "127.0.7.195";
  static final String RID = "0000000a-1111-4222-8333-444444444444";
  static ScriptedBackend backend;
  static SocketProxy proxy;
  static final Map<String, Integer> PORTS = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    backend = ScriptedBackend.echo("127.0.7.196");
    var b = SocketProxy.on(IP).admin();
    listener(b, "nopack", tracing(0) + uuid("pack_trace_reason: false"));
    listener(b, "packed", tracing(0));
    listener(b, "norid", tracing(0) + uuid("use_request_id_for_trace_sampling: false"));
    listener(b, "ridsampled", tracing(100));
    String edge = "use_remote_address: true\npreserve_external_request_id: true\n";
    listener(b, "edge", edge);
    listener(b, "edge-nopack", edge + uuid("pack_trace_reason: false"));
    proxy =
        b.cluster("b", "127.0.7.196", backend.port())
            .cluster("zipkin", "127.0.7.197", Ports.free("127.0.7.197"))
            .start();
  }

  static String tracing(int percent) {
    return """
        tracing:
          random_sampling: {value: %d}
          provider:
            name: envoy.tracers.zipkin
            typed_config:
              "@type": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig
              collector_cluster: zipkin
              collector_endpoint: /api/v2/spans
              collector_endpoint_version: HTTP_JSON
        """
        .formatted(percent);
  }

  static String uuid(String fields) {
    return """
        request_id_extension:
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig
            %s
        """
        .formatted(fields);
  }

  static void listener(SocketProxy.Builder b, String name, String options) {
    int port = Ports.free(IP);
    PORTS.put(name, port);
    b.listener(SocketProxy.listener(name, IP, port, options, SocketProxy.to("/", "b")));
  }

  @AfterAll
  static void stop() throws Exception {
    proxy.close();
    backend.close();
  }

  /** A GET with {@code Connection: close}: all the proxy wrote until it closed. */
  static String get(String name, String... headers) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(IP, PORTS.get(name)), 30_000);
      s.setSoTimeout(60_000);
      StringBuilder req = new StringBuilder("GET /r HTTP/1.1\r\nHost: t\r\n");
      for (int i = 0; i < headers.length; i += 2) {
        req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** The admin's counter {@code name} (0 when absent). */
  static long stat(String name) throws Exception {
    for (String line : proxy.admin("/stats").split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Long.parseLong(line.substring(name.length() + 2).trim());
      }
    }
    return 0;
  }

  @Test
  void withoutPackTraceReasonTheDecisionIsMadeButTheRequestIdIsNotRewritten() throws Exception {
    long client = stat("http.nopack.tracing.client_enabled");
    String r = get("nopack", "x-request-id", RID, "x-client-trace-id", "abc");
    assertThat(r).startsWith("HTTP/1.1 200");
    assertThat(upstream(r, "x-request-id")).isEqualTo(RID);
    assertThat(stat("http.nopack.tracing.client_enabled")).isEqualTo(client + 1);
    // the defaults (pack_trace_reason) write the client reason into the id
    String packed = get("packed", "x-request-id", RID, "x-client-trace-id", "abc");
    assertThat(upstream(packed, "x-request-id")).isEqualTo("0000000a-1111-b222-8333-444444444444");
  }

  @Test
  void withoutRequestIdSamplingEveryRequestIsTracedAndItsIdLeftAlone() throws Exception {
    long random = stat("http.norid.tracing.random_sampling");
    long not = stat("http.norid.tracing.not_traceable");
    String r = get("norid", "x-request-id", RID);
    assertThat(r).startsWith("HTTP/1.1 200");
    assertThat(upstream(r, "x-request-id")).isEqualTo(RID);
    assertThat(stat("http.norid.tracing.random_sampling")).isEqualTo(random + 1);
    assertThat(stat("http.norid.tracing.not_traceable")).isEqualTo(not);
    // keyed by the id, 100% random sampling marks it
    String keyed = get("ridsampled", "x-request-id", RID);
    assertThat(upstream(keyed, "x-request-id")).isEqualTo("0000000a-1111-9222-8333-444444444444");
  }

  @Test
  void anEdgeThatPreservesTheClientsIdClearsItsTraceDigitOnlyWhenPacking() throws Exception {
    String sampled = "0000000a-1111-9222-8333-444444444444";
    assertThat(upstream(get("edge", "x-request-id", sampled), "x-request-id")).isEqualTo(RID);
    assertThat(upstream(get("edge-nopack", "x-request-id", sampled), "x-request-id"))
        .isEqualTo(sampled);
  }
}
