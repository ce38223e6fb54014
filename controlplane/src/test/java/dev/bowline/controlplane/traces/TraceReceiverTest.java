package dev.bowline.controlplane.traces;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OTLP receiver over a real gRPC channel and real HTTP, and its JSON for the dashboard. */
class TraceReceiverTest {
  static final ObjectMapper JSON = new ObjectMapper();
  TraceReceiver receiver;
  HttpServer http;
  int grpcPort;
  final HttpClient client = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    receiver = new TraceReceiver(new TraceStore(3, 4));
    grpcPort = receiver.startGrpc(new InetSocketAddress("127.0.0.1", 0));
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    http.createContext("/v1/traces", receiver::otlpHttp);
    http.createContext("/api/traces", receiver::api);
    http.start();
  }

  @AfterEach
  void stop() {
    receiver.close();
    http.stop(0);
  }

  static ByteString id(int bytes, long v) {
    byte[] b = new byte[bytes];
    for (int i = 0; i < 8; i++) {
      b[bytes - 1 - i] = (byte) (v >>> (8 * i));
    }
    return ByteString.copyFrom(b);
  }

  static Span span(
      long trace,
      long spanId,
      long parent,
      String name,
      long startMicros,
      long durMicros,
      boolean error) {
    Span.Builder s =
        Span.newBuilder()
            .setTraceId(id(16, trace))
            .setSpanId(id(8, spanId))
            .setName(name)
            .setKind(parent == 0 ? Span.SpanKind.SPAN_KIND_CLIENT : Span.SpanKind.SPAN_KIND_SERVER)
            .setStartTimeUnixNano(startMicros * 1000)
            .setEndTimeUnixNano((startMicros + durMicros) * 1000)
            .addAttributes(
                KeyValue.newBuilder()
                    .setKey("http.status_code")
                    .setValue(AnyValue.newBuilder().setStringValue(error ? "503" : "200")));
    if (parent != 0) {
      s.setParentSpanId(id(8, parent));
    }
    if (error) {
      s.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR));
    }
    return s.build();
  }

  static ExportTraceServiceRequest export(String service, Span... spans) {
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .setResource(
                    Resource.newBuilder()
                        .addAttributes(
                            KeyValue.newBuilder()
                                .setKey("service.name")
                                .setValue(AnyValue.newBuilder().setStringValue(service))))
                .addScopeSpans(ScopeSpans.newBuilder().addAllSpans(java.util.List.of(spans))))
        .build();
  }

  JsonNode get(String path) throws Exception {
    var r =
        client.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + http.getAddress().getPort() + path))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return ((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(r.body()))
        .put("_status", r.statusCode());
  }

  @Test
  void spansFromGrpcAndHttpJoinOneTraceServedAsJson() throws Exception {
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      TraceServiceGrpc.newBlockingStub(ch)
          .export(
              export(
                  "istio-ingressgateway.istio-system",
                  span(7, 1, 0, "frontend:80/*", 1_000, 900, false)));
    } finally {
      ch.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
    var post =
        client.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/v1/traces"))
                .header("content-type", "application/x-protobuf")
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        export(
                                "frontend.weather",
                                span(
                                    7,
                                    2,
                                    1,
                                    "frontend.weather.svc.cluster.local:3000/*",
                                    1_100,
                                    700,
                                    true))
                            .toByteArray()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(post.statusCode()).isEqualTo(200);

    JsonNode list = get("/api/traces?limit=5");
    assertThat(list.get("traces")).hasSize(1);
    JsonNode t = list.get("traces").get(0);
    String traceId = HexFormat.of().formatHex(id(16, 7).toByteArray());
    assertThat(t.get("traceId").asText()).isEqualTo(traceId);
    assertThat(t.get("rootService").asText()).isEqualTo("istio-ingressgateway.istio-system");
    assertThat(t.get("rootName").asText()).isEqualTo("frontend:80/*");
    assertThat(t.get("startEpochMicros").asLong()).isEqualTo(1_000);
    assertThat(t.get("durationMicros").asLong()).isEqualTo(900);
    assertThat(t.get("spanCount").asInt()).isEqualTo(2);
    assertThat(t.get("error").asBoolean()).isTrue();

    JsonNode trace = get("/api/traces/" + traceId);
    assertThat(trace.get("traceId").asText()).isEqualTo(traceId);
    JsonNode spans = trace.get("spans");
    assertThat(spans).hasSize(2);
    assertThat(spans.get(0).get("parentSpanId").asText()).isEmpty();
    assertThat(spans.get(0).get("kind").asText()).isEqualTo("CLIENT");
    assertThat(spans.get(1).get("parentSpanId").asText())
        .isEqualTo(spans.get(0).get("spanId").asText());
    assertThat(spans.get(1).get("service").asText()).isEqualTo("frontend.weather");
    assertThat(spans.get(1).get("kind").asText()).isEqualTo("SERVER");
    assertThat(spans.get(1).get("statusCode").asText()).isEqualTo("ERROR");
    assertThat(spans.get(1).at("/attributes/http.status_code").asText()).isEqualTo("503");
    assertThat(get("/api/traces/00000000000000000000000000000bad").get("_status").asInt())
        .isEqualTo(404);
  }

  @Test
  void theStoreIsBoundedInTracesAndSpans() throws Exception {
    TraceStore store = receiver.store();
    for (int t = 1; t <= 5; t++) {
      store.add(export("s", span(t, 1, 0, "root" + t, t * 1000L, 10, false)));
    }
    assertThat(store.size()).isEqualTo(3); // the two least recently received are gone
    JsonNode list = get("/api/traces?limit=10");
    assertThat(list.get("traces"))
        .extracting(n -> n.get("rootName").asText())
        .containsExactly("root5", "root4", "root3"); // newest first
    for (int s = 2; s <= 10; s++) {
      store.add(export("s", span(5, s, 1, "child", 5000 + s, 1, false)));
    }
    assertThat(store.trace(HexFormat.of().formatHex(id(16, 5).toByteArray())).orElseThrow())
        .hasSize(4);
    assertThat(store.counts()[1]).isEqualTo(6);
    assertThat(get("/api/traces?limit=1").get("traces")).hasSize(1);
  }
}
