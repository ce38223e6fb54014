package dev.bowline.proxy.tracing;

import java.util.ArrayList;
import java.util.List;

/**
 * One sampled span. Built and finished on its stream's event loop; once {@linkplain
 * SpanReporter#report handed to the reporter} it is only read, by the reporter's thread (the
 * reporter's queue publishes it). Sampled-out requests get no span object at all.
 */
public final class Span {
  /** Envoy's span kinds: a connection manager's span is SERVER (ingress) or CLIENT (egress). */
  public enum Kind {
    SERVER,
    CLIENT
  }

  final long traceIdHigh;
  final long traceIdLow;
  final long spanId;
  final long parentSpanId;
  final Kind kind;
  final String traceState;
  final long startEpochMicros;
  private final long startNanos;
  String name;
  long durationMicros;
  boolean error;
  final List<String> tags = new ArrayList<>(48); // name, value, name, value...

  Span(
      long traceIdHigh,
      long traceIdLow,
      long spanId,
      long parentSpanId,
      Kind kind,
      String name,
      String traceState,
      long startEpochMicros,
      long startNanos) {
    this.traceIdHigh = traceIdHigh;
    this.traceIdLow = traceIdLow;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.kind = kind;
    this.name = name;
    this.traceState = traceState;
    this.startEpochMicros = startEpochMicros;
    this.startNanos = startNanos;
  }

  /** Sets tag {@code name} (a later value replaces an earlier one, as Envoy's setTag does). */
  public void tag(String name, String value) {
    for (int i = 0; i < tags.size(); i += 2) {
      if (tags.get(i).equals(name)) {
        tags.set(i + 1, value);
        return;
      }
    }
    tags.add(name);
    tags.add(value);
  }

  /** The tag {@code name}'s value, or null. */
  public @org.jspecify.annotations.Nullable String tag(String name) {
    for (int i = 0; i < tags.size(); i += 2) {
      if (tags.get(i).equals(name)) {
        return tags.get(i + 1);
      }
    }
    return null;
  }

  /** The operation name (Envoy: the route's decorator replaces the default). */
  public void name(String operation) {
    this.name = operation;
  }

  /** Ends the span now. */
  void finish(long nowNanos) {
    durationMicros = Math.max(0, (nowNanos - startNanos) / 1000);
  }

  /** The trace id's upper 64 bits. */
  public long traceIdHigh() {
    return traceIdHigh;
  }

  /** The trace id's lower 64 bits. */
  public long traceIdLow() {
    return traceIdLow;
  }

  /** This span's id. */
  public long spanId() {
    return spanId;
  }

  /** The parent span's id, 0 for a root span. */
  public long parentSpanId() {
    return parentSpanId;
  }

  /** SERVER or CLIENT. */
  public Kind kind() {
    return kind;
  }

  /** The operation name. */
  public String name() {
    return name;
  }

  /** The {@code tracestate} passed on. */
  public String traceState() {
    return traceState;
  }

  /** Start, microseconds since the epoch. */
  public long startEpochMicros() {
    return startEpochMicros;
  }

  /** Duration in microseconds (once finished). */
  public long durationMicros() {
    return durationMicros;
  }

  /** Whether the span carries {@code error=true}. */
  public boolean error() {
    return error;
  }

  /** The tags, name and value alternating, in the order set. */
  public List<String> tags() {
    return tags;
  }
}
