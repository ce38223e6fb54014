package dev.bowline.controlplane.traces;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The control plane's OTLP trace receiver: gRPC {@code
 * opentelemetry.proto.collector.trace.v1.TraceService/Export} on its own port (OTLP's 4317), and,
 * on the monitoring HTTP server, {@code POST /v1/traces} (protobuf or JSON), {@code GET
 * /api/traces?limit=N} (summaries, newest first) and {@code GET /api/traces/{traceId}} (spans).
 */
public final class TraceReceiver implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(TraceReceiver.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TraceStore store;
  private @Nullable Server grpc;

  /** A receiver filling {@code store}. */
  public TraceReceiver(TraceStore store) {
    this.store = store;
  }

  /** The store it fills. */
  public TraceStore store() {
    return store;
  }

  /** Starts the gRPC receiver on {@code address} (port 0 picks one); returns the bound port. */
  public synchronized int startGrpc(InetSocketAddress address) throws IOException {
    Server s =
        NettyServerBuilder.forAddress(address)
            .maxInboundMessageSize(16 << 20)
            .addService(
                new TraceServiceGrpc.TraceServiceImplBase() {
                  @Override
                  public void export(
                      ExportTraceServiceRequest request,
                      StreamObserver<ExportTraceServiceResponse> response) {
                    store.add(request);
                    response.onNext(ExportTraceServiceResponse.getDefaultInstance());
                    response.onCompleted();
                  }
                })
            .build()
            .start();
    grpc = s;
    LOG.log(
        Level.INFO,
        "event=otlp_receiver_started address={0}:{1}",
        address.getHostString(),
        s.getPort());
    return s.getPort();
  }

  /** {@code POST /v1/traces}: OTLP/HTTP, protobuf ({@code application/x-protobuf}) or JSON. */
  public void otlpHttp(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("POST")) {
        send(ex, 405, "text/plain", "POST an ExportTraceServiceRequest\n");
        return;
      }
      byte[] body = ex.getRequestBody().readAllBytes();
      String type = ex.getRequestHeaders().getFirst("content-type");
      ExportTraceServiceRequest req;
      try {
        if (type != null && type.startsWith("application/json")) {
          ExportTraceServiceRequest.Builder b = ExportTraceServiceRequest.newBuilder();
          JsonFormat.parser()
              .ignoringUnknownFields()
              .merge(new String(body, StandardCharsets.UTF_8), b);
          req = b.build();
        } else {
          req = ExportTraceServiceRequest.parseFrom(body);
        }
      } catch (IOException e) {
        send(
            ex,
            400,
            "text/plain",
            "not an OTLP ExportTraceServiceRequest: " + e.getMessage() + "\n");
        return;
      }
      store.add(req);
      ex.getResponseHeaders().set("content-type", "application/x-protobuf");
      byte[] out = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
      ex.sendResponseHeaders(200, out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        ex.getResponseBody().write(out);
      }
    }
  }

  /** {@code GET /api/traces?limit=N} and {@code GET /api/traces/{traceId}}. */
  public void api(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      String rest =
          path.length() > "/api/traces".length() ? path.substring("/api/traces/".length()) : "";
      if (rest.isEmpty()) {
        int limit = 20;
        String q = ex.getRequestURI().getQuery();
        if (q != null) {
          for (String kv : q.split("&")) {
            if (kv.startsWith("limit=")) {
              try {
                limit = Math.min(1000, Math.max(0, Integer.parseInt(kv.substring(6))));
              } catch (NumberFormatException e) {
                send(ex, 400, "text/plain", "limit: not a number: " + kv.substring(6) + "\n");
                return;
              }
            }
          }
        }
        json(ex, 200, Map.of("traces", store.recent(limit)));
        return;
      }
      var spans = store.trace(rest);
      if (spans.isEmpty()) {
        json(ex, 404, Map.of("error", "no trace " + rest));
        return;
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("traceId", rest.toLowerCase(java.util.Locale.ROOT));
      out.put("spans", spans.get().stream().map(TraceReceiver::span).toList());
      json(ex, 200, out);
    }
  }

  private static Map<String, Object> span(TraceStore.StoredSpan s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("spanId", s.spanId());
    m.put("parentSpanId", s.parentSpanId());
    m.put("service", s.service());
    m.put("name", s.name());
    m.put("kind", s.kind());
    m.put("startEpochMicros", s.startEpochMicros());
    m.put("durationMicros", s.durationMicros());
    m.put("statusCode", s.statusCode());
    m.put("attributes", new java.util.TreeMap<>(s.attributes()));
    return m;
  }

  private static void json(HttpExchange ex, int status, Object body) throws IOException {
    send(ex, status, "application/json", JSON.writeValueAsString(body));
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("content-type", type);
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  /** Counters for {@code /debug}: spans received, dropped, traces held. */
  public Map<String, Object> status() {
    long[] c = store.counts();
    return Map.of("spansReceived", c[0], "spansDropped", c[1], "traces", store.size());
  }

  @Override
  public synchronized void close() {
    Server s = grpc;
    if (s != null) {
      s.shutdownNow();
      try {
        s.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      grpc = null;
    }
  }
}
