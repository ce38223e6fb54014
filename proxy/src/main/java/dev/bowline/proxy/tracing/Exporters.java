package dev.bowline.proxy.tracing;

import com.google.protobuf.ByteString;
import dev.bowline.proxy.config.SocketAddr;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Status;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The wire formats, used only by the reporter's thread: OTLP {@code ExportTraceServiceRequest} over
 * gRPC ({@code TraceService/Export}) or HTTP ({@code application/x-protobuf}), and Zipkin's JSON v2
 * span list. gRPC channels are kept per collector host.
 */
final class Exporters implements AutoCloseable {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final Map<SocketAddr, ManagedChannel> channels = new HashMap<>();
  private @org.jspecify.annotations.Nullable HttpClient http;

  void export(TracingConfig.Provider provider, SocketAddr host, Map<String, List<Span>> byService)
      throws IOException, InterruptedException {
    switch (provider) {
      case TracingConfig.OpenTelemetry o -> {
        ExportTraceServiceRequest req = otlp(byService);
        if (o.grpc()) {
          grpc(o, host, req);
        } else {
          post(
              o.authority(),
              host,
              o.path().isEmpty() ? "/v1/traces" : o.path(),
              "application/x-protobuf",
              o.headers(),
              req.toByteArray());
        }
      }
      case TracingConfig.Zipkin z ->
          post(
              "",
              host,
              z.endpoint(),
              "application/json",
              Map.of(),
              zipkinJson(byService, z).getBytes(StandardCharsets.UTF_8));
    }
  }

  private void grpc(TracingConfig.OpenTelemetry o, SocketAddr host, ExportTraceServiceRequest req) {
    ManagedChannel ch =
        channels.computeIfAbsent(
            host,
            h -> {
              var b = NettyChannelBuilder.forAddress(h.toInet()).usePlaintext();
              if (!o.authority().isEmpty()) {
                b.overrideAuthority(o.authority());
              }
              return b.build();
            });
    var stub = TraceServiceGrpc.newBlockingStub(ch);
    if (!o.headers().isEmpty()) {
      Metadata md = new Metadata();
      o.headers()
          .forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    stub.withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).export(req);
  }

  private void post(
      String authority,
      SocketAddr host,
      String path,
      String contentType,
      Map<String, String> headers,
      byte[] body)
      throws IOException, InterruptedException {
    if (http == null) {
      http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(TIMEOUT)
              .build();
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://" + host + (path.startsWith("/") ? "" : "/") + path))
            .timeout(TIMEOUT)
            .header("content-type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    HttpResponse<Void> r = http.send(b.build(), HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() / 100 != 2) {
      throw new IOException("collector answered " + r.statusCode());
    }
  }

  /** OTLP: one ResourceSpans per service (resource {@code service.name}), scope {@code envoy}. */
  static ExportTraceServiceRequest otlp(Map<String, List<Span>> byService) {
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    for (var e : byService.entrySet()) {
      ScopeSpans.Builder scope =
          ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName("envoy"));
      for (Span s : e.getValue()) {
        io.opentelemetry.proto.trace.v1.Span.Builder b =
            io.opentelemetry.proto.trace.v1.Span.newBuilder()
                .setTraceId(ByteString.copyFrom(bytes(s.traceIdHigh, s.traceIdLow)))
                .setSpanId(ByteString.copyFrom(bytes(s.spanId)))
                .setName(s.name)
                .setKind(
                    s.kind == Span.Kind.SERVER
                        ? io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER
                        : io.opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_CLIENT)
                .setStartTimeUnixNano(s.startEpochMicros * 1000)
                .setEndTimeUnixNano((s.startEpochMicros + s.durationMicros) * 1000)
                .setTraceState(s.traceState);
        if (s.parentSpanId != 0) {
          b.setParentSpanId(ByteString.copyFrom(bytes(s.parentSpanId)));
        }
        for (int i = 0; i < s.tags.size(); i += 2) {
          b.addAttributes(kv(s.tags.get(i), s.tags.get(i + 1)));
        }
        if (s.error) {
          b.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR));
        }
        scope.addSpans(b);
      }
      req.addResourceSpans(
          ResourceSpans.newBuilder()
              .setResource(Resource.newBuilder().addAttributes(kv("service.name", e.getKey())))
              .addScopeSpans(scope));
    }
    return req.build();
  }

  private static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder()
        .setKey(k)
        .setValue(AnyValue.newBuilder().setStringValue(v))
        .build();
  }

  private static byte[] bytes(long hi, long lo) {
    return ByteBuffer.allocate(16).putLong(hi).putLong(lo).array();
  }

  private static byte[] bytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  /**
   * Zipkin JSON v2: Envoy's Zipkin spans carry {@code localEndpoint.serviceName} = the service and
   * the tags as string tags; a shared server span is marked {@code shared}.
   */
  static String zipkinJson(Map<String, List<Span>> byService, TracingConfig.Zipkin z) {
    StringBuilder sb = new StringBuilder(1024).append('[');
    boolean first = true;
    for (var e : byService.entrySet()) {
      for (Span s : e.getValue()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        sb.append("{\"traceId\":\"")
            .append(TraceContext.traceIdHex(s.traceIdHigh, s.traceIdLow))
            .append("\",\"id\":\"")
            .append(TraceContext.hex16(s.spanId))
            .append('"');
        if (s.parentSpanId != 0) {
          sb.append(",\"parentId\":\"").append(TraceContext.hex16(s.parentSpanId)).append('"');
        }
        sb.append(",\"kind\":\"").append(s.kind.name()).append('"');
        sb.append(",\"name\":");
        string(sb, s.name);
        sb.append(",\"timestamp\":").append(s.startEpochMicros);
        sb.append(",\"duration\":").append(Math.max(1, s.durationMicros));
        sb.append(",\"localEndpoint\":{\"serviceName\":");
        string(sb, e.getKey());
        sb.append('}');
        if (z.sharedSpanContext() && s.kind == Span.Kind.SERVER && s.parentSpanId != 0) {
          sb.append(",\"shared\":true");
        }
        sb.append(",\"tags\":{");
        for (int i = 0; i < s.tags.size(); i += 2) {
          if (i > 0) {
            sb.append(',');
          }
          string(sb, s.tags.get(i));
          sb.append(':');
          string(sb, s.tags.get(i + 1));
        }
        sb.append("}}");
      }
    }
    return sb.append(']').toString();
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
    HttpClient h = http;
    if (h != null) {
      h.close();
    }
  }
}
