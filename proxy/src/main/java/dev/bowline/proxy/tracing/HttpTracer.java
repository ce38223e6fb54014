package dev.bowline.proxy.tracing;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * The tracing of one connection manager: decides per request (on its event loop) whether it is
 * traced, starts the span, writes the context upstream, and at the end of the stream sets Envoy's
 * tags and hands the span to the proxy's {@link SpanReporter}. A request that is not traced costs
 * the decision only: a few header lookups, no span, no allocation.
 *
 * @param config the connection manager's {@code tracing}
 * @param reporter where finished spans go
 */
public record HttpTracer(TracingConfig config, SpanReporter reporter) {

  /**
   * Decides for the request head {@code h} (its x-request-id already set) and starts its span, or
   * returns null when it is not traced. An incoming context's decision wins over the request id's
   * (Envoy's tracers take the parent's sampled flag).
   */
  public @Nullable Span start(HttpHeaders h, RandomGenerator random, long startNanos) {
    return start(h, Sampling.decide(h, config, random), random, startNanos);
  }

  /**
   * Starts the span of the request with head {@code h} whose connection manager's decision ({@link
   * Sampling#decide}) is {@code decided}, or returns null when it is not traced.
   */
  public @Nullable Span start(
      HttpHeaders h, boolean decided, RandomGenerator random, long startNanos) {
    int incoming = TraceContext.incomingSampled(h);
    if (incoming == 0 || (incoming < 0 && !decided)) {
      return null;
    }
    boolean otel = config.provider() instanceof TracingConfig.OpenTelemetry;
    TraceContext parent = TraceContext.extract(h, otel);
    Span.Kind kind = config.egress() ? Span.Kind.CLIENT : Span.Kind.SERVER;
    String name;
    if (config.egress()) {
      String host = h.get(TraceHeaders.HOST);
      name = "egress " + (host == null ? "" : host);
    } else {
      name = "ingress";
    }
    long hi;
    long lo;
    long id;
    long parentId;
    String state = "";
    if (parent == null) {
      boolean wide = otel || ((TracingConfig.Zipkin) config.provider()).traceId128();
      hi = wide ? nonZero(random) : 0;
      lo = nonZero(random);
      id = otel ? nonZero(random) : lo; // Zipkin: a root span's id is the trace id's low half
      parentId = 0;
    } else {
      hi = parent.traceIdHigh();
      lo = parent.traceIdLow();
      state = parent.traceState();
      if (config.provider() instanceof TracingConfig.Zipkin z
          && z.sharedSpanContext()
          && kind == Span.Kind.SERVER) {
        id = parent.spanId(); // the server half of the caller's span (Zipkin's shared span)
        parentId = parent.parentSpanId();
      } else {
        id = nonZero(random);
        parentId = parent.spanId();
      }
    }
    Span s = new Span(hi, lo, id, parentId, kind, name, state, epochMicros(), startNanos);
    s.tag("node_id", config.local().id());
    s.tag("zone", config.local().zone());
    return s;
  }

  /** Envoy's header naming a span's operation across the call ({@code decorator.propagate}). */
  public static final String DECORATOR_OPERATION = "x-envoy-decorator-operation";

  /**
   * Counts why the request with head {@code h} (its decision made) is or is not traced, as Envoy's
   * {@code chargeTracingStats} does by the request id's trace reason.
   */
  public static void charge(HttpHeaders h, dev.bowline.proxy.stats.HttpStats.Tracing stats) {
    String rid = h.get("x-request-id");
    charge(rid == null ? 0 : Sampling.reason(rid), stats);
  }

  /** Counts the trace reason {@code reason} ({@link Sampling#decide}'s), as Envoy's stats do. */
  public static void charge(char reason, dev.bowline.proxy.stats.HttpStats.Tracing stats) {
    switch (reason) {
      case Sampling.SAMPLED -> stats.randomSampling().inc();
      case Sampling.CLIENT -> stats.clientEnabled().inc();
      case Sampling.FORCED -> stats.serviceForced().inc();
      default -> stats.notTraceable().inc();
    }
  }

  /**
   * Envoy's decorator handling when a traced request is routed: the route's {@code
   * decorator.operation} names span {@code s}; outbound ({@code egress}) it also goes upstream in
   * {@code x-envoy-decorator-operation}, so the server's span takes the same name; inbound a
   * non-empty {@code x-envoy-decorator-operation} from the caller names the span instead, and the
   * header is taken off before the app. Returns whether the route's operation stands (then an
   * inbound response carries it back).
   */
  public boolean decorateRequest(Span s, HttpHeaders h, @Nullable String decorator) {
    boolean decorated = decorator != null && !decorator.isEmpty();
    if (decorated) {
      s.name(decorator);
    }
    if (config.egress()) {
      if (decorated) {
        h.set(DECORATOR_OPERATION, decorator);
      }
      return decorated;
    }
    String op = h.get(DECORATOR_OPERATION);
    if (op != null) {
      if (!op.isEmpty()) {
        s.name(op);
        decorated = false;
      }
      h.remove(DECORATOR_OPERATION);
    }
    return decorated;
  }

  /**
   * Envoy's decorator handling on the response head {@code h} of a traced request: inbound, the
   * route's operation goes back to the caller when it stood ({@code decorated}); outbound, a
   * non-empty {@code x-envoy-decorator-operation} from the server names span {@code s}, and the
   * header is taken off before the app.
   */
  public void decorateResponse(
      Span s, HttpHeaders h, @Nullable String decorator, boolean decorated) {
    if (!config.egress()) {
      if (decorated && decorator != null) {
        h.set(DECORATOR_OPERATION, decorator);
      }
      return;
    }
    String op = h.get(DECORATOR_OPERATION);
    if (op != null) {
      if (!op.isEmpty()) {
        s.name(op);
      }
      h.remove(DECORATOR_OPERATION);
    }
  }

  private static long epochMicros() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1000;
  }

  private static long nonZero(RandomGenerator r) {
    long v;
    do {
      v = r.nextLong();
    } while (v == 0);
    return v;
  }

  /**
   * A child CLIENT span for one upstream request ({@code spawn_upstream_span}), named as Envoy's
   * router names it.
   */
  public Span upstreamSpan(Span parent, String cluster, RandomGenerator random) {
    return new Span(
        parent.traceIdHigh,
        parent.traceIdLow,
        nonZero(random),
        parent.spanId,
        Span.Kind.CLIENT,
        "router " + cluster + " egress",
        parent.traceState,
        epochMicros(),
        System.nanoTime());
  }

  /**
   * Writes {@code s}'s context into the upstream request head {@code h} in the provider's format.
   */
  public void inject(Span s, HttpHeaders h) {
    if (config.provider() instanceof TracingConfig.OpenTelemetry) {
      TraceContext.injectW3c(h, s.traceIdHigh, s.traceIdLow, s.spanId, true, s.traceState);
    } else {
      TraceContext.injectB3(h, s.traceIdHigh, s.traceIdLow, s.spanId, s.parentSpanId, true);
    }
  }

  /**
   * Ends {@code s} with Envoy's tags for the stream {@code info} ({@code finalizeDownstreamSpan}),
   * names it by the route's decorator when there is one, and reports it.
   */
  public void finish(Span s, StreamInfo info, @Nullable String decorator) {
    if (decorator != null && !decorator.isEmpty()) {
      s.name(decorator);
    }
    HttpHeaders h = info.requestHeaders();
    String rid = h.get(TraceHeaders.X_REQUEST_ID);
    if (rid != null) {
      s.tag("guid:x-request-id", rid);
    }
    s.tag("http.url", url(h, info.path(), config.maxPathTagLength()));
    s.tag("http.method", info.method());
    s.tag("downstream_cluster", orDash(h.get(TraceHeaders.X_ENVOY_DOWNSTREAM_SERVICE_CLUSTER)));
    s.tag("user_agent", orDash(h.get(TraceHeaders.USER_AGENT)));
    s.tag("http.protocol", info.protocol());
    s.tag("peer.address", ip(info.downstreamRemoteAddress()));
    String client = h.get(TraceHeaders.X_CLIENT_TRACE_ID);
    if (client != null) {
      s.tag("guid:x-client-trace-id", client);
    }
    tagsFrom(s, info);
    s.tag("request_size", Long.toString(info.bytesReceived()));
    s.tag("response_size", Long.toString(info.bytesSent()));
    commonTags(s, info);
    s.finish(info.startNanos() + info.durationNanos());
    reporter.report(this, s);
  }

  /** Ends an upstream span ({@code spawn_upstream_span}) with the upstream's outcome. */
  public void finishUpstream(Span s, StreamInfo info) {
    s.tag("upstream_address", orDash(info.upstreamHost()));
    commonTags(s, info);
    s.finish(System.nanoTime());
    reporter.report(this, s);
  }

  private static void commonTags(Span s, StreamInfo info) {
    s.tag("component", "proxy");
    String cluster = info.upstreamCluster();
    if (cluster != null && info.upstreamHost() != null) {
      s.tag("upstream_cluster", cluster);
      // the observability name: alt_stat_name when the cluster has one
      s.tag(
          "upstream_cluster.name",
          java.util.Objects.requireNonNullElse(info.upstreamClusterStatName(), cluster));
    }
    int code = info.responseCode();
    s.tag("http.status_code", Integer.toString(code));
    s.tag(
        "response_flags", dev.bowline.proxy.http.filter.ResponseFlags.format(info.responseFlags()));
    if (code == 0 || code >= 500) {
      s.tag("error", "true");
      s.error = true;
    }
  }

  private void tagsFrom(Span s, StreamInfo info) {
    for (TracingConfig.CustomTag t : config.customTags()) {
      String v =
          switch (t) {
            case TracingConfig.Literal l -> l.value();
            case TracingConfig.Environment e -> e.value();
            case TracingConfig.RequestHeader r -> {
              String hv = info.requestHeaders().get(r.name());
              yield hv != null ? hv : r.defaultValue();
            }
            case TracingConfig.Metadata m -> metadata(info, m);
          };
      if (!v.isEmpty()) {
        s.tag(t.tag(), v);
      }
    }
  }

  private static String metadata(StreamInfo info, TracingConfig.Metadata m) {
    Struct st = info.dynamicMetadata(m.filter());
    Value v = null;
    for (String key : m.path()) {
      if (st == null) {
        v = null;
        break;
      }
      v = st.getFieldsMap().get(key);
      st = v != null && v.hasStructValue() ? v.getStructValue() : null;
    }
    if (v == null) {
      return m.defaultValue();
    }
    return switch (v.getKindCase()) {
      case STRING_VALUE -> v.getStringValue();
      case NUMBER_VALUE -> {
        double d = v.getNumberValue();
        yield d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
      }
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      default -> m.defaultValue();
    };
  }

  /** Envoy's {@code buildUrl}: scheme (x-forwarded-proto), host, path cut at the limit. */
  static String url(HttpHeaders h, String path, int maxPath) {
    String proto = h.get(TraceHeaders.X_FORWARDED_PROTO);
    String host = h.get(TraceHeaders.HOST);
    String p = path.length() > maxPath ? path.substring(0, maxPath) : path;
    return (proto == null ? "http" : proto) + "://" + (host == null ? "" : host) + p;
  }

  private static String ip(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return colon > 0 ? hostPort.substring(0, colon) : hostPort;
  }

  private static String orDash(@Nullable String v) {
    return v == null || v.isEmpty() ? "-" : v;
  }

  /** The service name spans are reported under (OTel {@code service.name}, Zipkin's endpoint). */
  public String serviceName() {
    if (config.provider() instanceof TracingConfig.OpenTelemetry o && !o.serviceName().isEmpty()) {
      return o.serviceName();
    }
    String c = config.local().cluster();
    return c.isEmpty() ? "unknown_service:envoy" : c;
  }
}
