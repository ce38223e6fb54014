package dev.bowline.controlplane.traces;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Recent traces by trace id, bounded: at most {@code maxTraces} traces (the least recently received
 * is evicted first) of at most {@code maxSpansPerTrace} spans each (later spans of a full trace are
 * dropped and counted). Thread-safe; not on any request path.
 */
public final class TraceStore {
  /**
   * One received span.
   *
   * @param parentSpanId {@code ""} for a root span
   * @param service its resource's {@code service.name}
   * @param kind {@code SERVER}, {@code CLIENT}, {@code INTERNAL}, {@code PRODUCER}, {@code
   *     CONSUMER} or {@code UNSPECIFIED}
   * @param statusCode {@code UNSET}, {@code OK} or {@code ERROR}
   */
  public record StoredSpan(
      String traceId,
      String spanId,
      String parentSpanId,
      String service,
      String name,
      String kind,
      long startEpochMicros,
      long durationMicros,
      String statusCode,
      Map<String, String> attributes) {
    public StoredSpan {
      attributes = Map.copyOf(attributes);
    }
  }

  /** A trace's summary, as {@code GET /api/traces} lists it. */
  public record Summary(
      String traceId,
      String rootService,
      String rootName,
      long startEpochMicros,
      long durationMicros,
      int spanCount,
      boolean error) {}

  private static final HexFormat HEX = HexFormat.of();
  private final int maxTraces;
  private final int maxSpansPerTrace;
  private final LinkedHashMap<String, List<StoredSpan>> traces;
  private long received;
  private long dropped;

  /** A store of at most {@code maxTraces} traces of at most {@code maxSpansPerTrace} spans. */
  public TraceStore(int maxTraces, int maxSpansPerTrace) {
    if (maxTraces < 1 || maxSpansPerTrace < 1) {
      throw new IllegalArgumentException("maxTraces and maxSpansPerTrace must be >= 1");
    }
    this.maxTraces = maxTraces;
    this.maxSpansPerTrace = maxSpansPerTrace;
    this.traces =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, List<StoredSpan>> eldest) {
            return size() > TraceStore.this.maxTraces;
          }
        };
  }

  /** Adds the spans of one OTLP export. */
  public void add(ExportTraceServiceRequest request) {
    List<StoredSpan> spans = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      String service = "unknown_service";
      for (KeyValue kv : rs.getResource().getAttributesList()) {
        if (kv.getKey().equals("service.name")) {
          service = text(kv.getValue());
        }
      }
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (var s : ss.getSpansList()) {
          if (s.getTraceId().size() != 16 || s.getSpanId().size() != 8) {
            continue; // invalid ids (OTLP: such spans are dropped)
          }
          Map<String, String> attrs = new LinkedHashMap<>();
          for (KeyValue kv : s.getAttributesList()) {
            attrs.put(kv.getKey(), text(kv.getValue()));
          }
          long start = s.getStartTimeUnixNano() / 1000;
          long end = s.getEndTimeUnixNano() / 1000;
          spans.add(
              new StoredSpan(
                  hex(s.getTraceId()),
                  hex(s.getSpanId()),
                  s.getParentSpanId().size() == 8 ? hex(s.getParentSpanId()) : "",
                  service,
                  s.getName(),
                  s.getKind().name().replace("SPAN_KIND_", ""),
                  start,
                  Math.max(0, end - start),
                  s.getStatus().getCode().name().replace("STATUS_CODE_", ""),
                  attrs));
        }
      }
    }
    synchronized (this) {
      for (StoredSpan s : spans) {
        received++;
        List<StoredSpan> t = traces.computeIfAbsent(s.traceId(), k -> new ArrayList<>());
        if (t.size() >= maxSpansPerTrace) {
          dropped++;
        } else {
          t.add(s);
        }
      }
    }
  }

  private static String hex(ByteString b) {
    return HEX.formatHex(b.toByteArray());
  }

  private static String text(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      case INT_VALUE -> Long.toString(v.getIntValue());
      case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
      default -> v.toString().strip();
    };
  }

  /** The newest {@code limit} traces (by start), newest first. */
  public synchronized List<Summary> recent(int limit) {
    List<Summary> all = new ArrayList<>();
    // iterating an access-ordered map with get() would reorder it; read the values directly
    for (List<StoredSpan> spans : traces.values()) {
      all.add(summary(spans));
    }
    all.sort(Comparator.comparingLong(Summary::startEpochMicros).reversed());
    return List.copyOf(all.subList(0, Math.min(Math.max(limit, 0), all.size())));
  }

  /** The spans of trace {@code traceId} (lower-case hex), by start time. */
  public synchronized Optional<List<StoredSpan>> trace(String traceId) {
    List<StoredSpan> t = traces.get(traceId.toLowerCase(java.util.Locale.ROOT));
    if (t == null) {
      return Optional.empty();
    }
    List<StoredSpan> out = new ArrayList<>(t);
    out.sort(Comparator.comparingLong(StoredSpan::startEpochMicros));
    return Optional.of(List.copyOf(out));
  }

  /** Spans received and spans dropped (trace full) so far. */
  public synchronized long[] counts() {
    return new long[] {received, dropped};
  }

  /** Traces held. */
  public synchronized int size() {
    return traces.size();
  }

  private static Summary summary(List<StoredSpan> spans) {
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (StoredSpan s : spans) {
      ids.add(s.spanId());
    }
    StoredSpan root = null;
    long start = Long.MAX_VALUE;
    long end = Long.MIN_VALUE;
    boolean error = false;
    for (StoredSpan s : spans) {
      start = Math.min(start, s.startEpochMicros());
      end = Math.max(end, s.startEpochMicros() + s.durationMicros());
      error |= s.statusCode().equals("ERROR");
      boolean isRoot = s.parentSpanId().isEmpty() || !ids.contains(s.parentSpanId());
      if (isRoot && (root == null || s.startEpochMicros() < root.startEpochMicros())) {
        root = s;
      }
    }
    StoredSpan r = root == null ? spans.getFirst() : root;
    return new Summary(
        r.traceId(), r.service(), r.name(), start, Math.max(0, end - start), spans.size(), error);
  }
}
