package dev.bowline.proxy.tracing;

import com.google.protobuf.ByteString;
import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.text.Json;
import dev.bowline.proxy.tls.CommonTls;
import dev.bowline.proxy.tls.TlsContexts;
import dev.bowline.proxy.tls.UpstreamTls;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.handler.ssl.SslContext;
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
import org.jspecify.annotations.Nullable;

/**
 * The wire formats, used only by the reporter's thread: OTLP {@code ExportTraceServiceRequest} over
 * gRPC ({@code TraceService/Export}) or HTTP ({@code application/x-protobuf}), and Zipkin's JSON v2
 * span list. gRPC channels are kept per collector host. When the collector cluster has a TLS {@code
 * transport_socket}, the export uses it (its certificate, trust and SAN checks, its SNI; gRPC
 * offers ALPN {@code h2} as Envoy's HTTP/2 pools do): OTLP/gRPC over a Netty client context,
 * OTLP/HTTP and Zipkin as {@code https} with a JDK context of the same material.
 */
final class Exporters implements AutoCloseable {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);
  private final Map<ChannelKey, Chan> channels = new HashMap<>();
  private final Map<Object, HttpClient> https = new HashMap<>();
  private @Nullable HttpClient http;

  /** A gRPC channel's target: the host and the TLS towards it (null: plaintext). */
  private record ChannelKey(SocketAddr host, @Nullable UpstreamTls tls) {}

  /** A channel and the client context it was built with (a rotated certificate makes a new one). */
  private record Chan(@Nullable SslContext context, ManagedChannel channel) {}

  void export(TracingConfig.Provider provider, SocketAddr host, Map<String, List<Span>> byService)
      throws IOException, InterruptedException {
    export(provider, host, null, null, byService);
  }

  /**
   * Sends {@code byService} to {@code host} in {@code provider}'s format, over {@code tls} (with
   * contexts from {@code contexts}) when it is not null.
   */
  void export(
      TracingConfig.Provider provider,
      SocketAddr host,
      @Nullable UpstreamTls tls,
      @Nullable TlsContexts contexts,
      Map<String, List<Span>> byService)
      throws IOException, InterruptedException {
    if (tls != null && contexts == null) {
      throw new IOException("the collector cluster uses TLS and this reporter has no TLS contexts");
    }
    switch (provider) {
      case TracingConfig.OpenTelemetry o -> {
        ExportTraceServiceRequest req = otlp(byService);
        if (o.grpc()) {
          grpc(o, host, tls, contexts, req);
        } else {
          post(
              client(tls, contexts),
              tls != null,
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
              client(tls, contexts),
              tls != null,
              "",
              host,
              z.endpoint(),
              "application/json",
              Map.of(),
              zipkinJson(byService, z).getBytes(StandardCharsets.UTF_8));
    }
  }

  private void grpc(
      TracingConfig.OpenTelemetry o,
      SocketAddr host,
      @Nullable UpstreamTls tls,
      @Nullable TlsContexts contexts,
      ExportTraceServiceRequest req)
      throws IOException {
    // gRPC needs HTTP/2 by ALPN: offer h2 whatever the cluster's alpn_protocols say
    UpstreamTls h2 =
        tls == null
            ? null
            : new UpstreamTls(
                new CommonTls(
                    tls.common().certificates(),
                    tls.common().trust(),
                    tls.common().sanMatchers(),
                    List.of("h2"),
                    tls.common().params()),
                tls.sni());
    SslContext ssl = null;
    if (h2 != null && contexts != null) {
      ssl = contexts.client(h2);
      if (ssl == null) {
        throw new IOException("collector TLS context not ready: " + contexts.problem(h2));
      }
    }
    ChannelKey key = new ChannelKey(host, h2);
    Chan existing = channels.get(key);
    if (existing == null || existing.context() != ssl) {
      if (existing != null) {
        existing.channel().shutdown();
      }
      var b = NettyChannelBuilder.forAddress(host.toInet());
      if (ssl == null) {
        b.usePlaintext();
      } else {
        b.sslContext(ssl);
      }
      // the authority names the server; over TLS it is also the SNI, so the cluster's sni wins
      String authority = h2 != null && !h2.sni().isEmpty() ? h2.sni() : o.authority();
      if (!authority.isEmpty()) {
        b.overrideAuthority(authority);
      }
      existing = new Chan(ssl, b.build());
      channels.put(key, existing);
    }
    ManagedChannel ch = existing.channel();
    var stub = TraceServiceGrpc.newBlockingStub(ch);
    if (!o.headers().isEmpty()) {
      Metadata md = new Metadata();
      o.headers()
          .forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    stub.withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).export(req);
  }

  /** The JDK client for plaintext, or for {@code tls} with a JDK context of its material. */
  private HttpClient client(@Nullable UpstreamTls tls, @Nullable TlsContexts contexts)
      throws IOException {
    if (tls == null || contexts == null) {
      HttpClient h = http;
      if (h == null) {
        h =
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(TIMEOUT)
                .build();
        http = h;
      }
      return h;
    }
    javax.net.ssl.SSLContext ssl = contexts.jdkClient(tls);
    if (ssl == null) {
      throw new IOException("collector TLS context not ready: " + contexts.problem(tls));
    }
    HttpClient h = https.get(ssl);
    if (h == null) {
      javax.net.ssl.SSLParameters params = new javax.net.ssl.SSLParameters();
      if (!tls.sni().isEmpty()) {
        params.setServerNames(List.of(new javax.net.ssl.SNIHostName(tls.sni())));
      }
      h =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(TIMEOUT)
              .sslContext(ssl)
              .sslParameters(params)
              .build();
      https.values().forEach(HttpClient::close); // contexts are replaced, not added
      https.clear();
      https.put(ssl, h);
    }
    return h;
  }

  private void post(
      HttpClient client,
      boolean tls,
      String authority,
      SocketAddr host,
      String path,
      String contentType,
      Map<String, String> headers,
      byte[] body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(
                    (tls ? "https://" : "http://")
                        + host
                        + (path.startsWith("/") ? "" : "/")
                        + path))
            .timeout(TIMEOUT)
            .header("content-type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    HttpResponse<Void> r = client.send(b.build(), HttpResponse.BodyHandlers.discarding());
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
        Json.quote(sb, s.name);
        sb.append(",\"timestamp\":").append(s.startEpochMicros);
        sb.append(",\"duration\":").append(Math.max(1, s.durationMicros));
        sb.append(",\"localEndpoint\":{\"serviceName\":");
        Json.quote(sb, e.getKey());
        sb.append('}');
        if (z.sharedSpanContext() && s.kind == Span.Kind.SERVER && s.parentSpanId != 0) {
          sb.append(",\"shared\":true");
        }
        sb.append(",\"tags\":{");
        for (int i = 0; i < s.tags.size(); i += 2) {
          if (i > 0) {
            sb.append(',');
          }
          Json.quote(sb, s.tags.get(i));
          sb.append(':');
          Json.quote(sb, s.tags.get(i + 1));
        }
        sb.append("}}");
      }
    }
    return sb.append(']').toString();
  }

  @Override
  public void close() {
    channels.values().forEach(c -> c.channel().shutdownNow());
    channels.clear();
    https.values().forEach(HttpClient::close);
    https.clear();
    HttpClient h = http;
    if (h != null) {
      h.close();
    }
  }
}
