package dev.bowline.proxy.tracing;

import io.netty.util.AsciiString;

/**
 * The header names tracing reads and writes, as pre-hashed {@link AsciiString}s: Netty hashes a
 * {@code String} name on every lookup, and the decision for every request (sampled or not) looks up
 * seven of them.
 */
final class TraceHeaders {
  static final AsciiString HOST = AsciiString.cached("host");
  static final AsciiString USER_AGENT = AsciiString.cached("user-agent");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  static final AsciiString X_CLIENT_TRACE_ID = AsciiString.cached("x-client-trace-id");
  static final AsciiString X_ENVOY_FORCE_TRACE = AsciiString.cached("x-envoy-force-trace");
  static final AsciiString X_ENVOY_DOWNSTREAM_SERVICE_CLUSTER =
      AsciiString.cached("x-envoy-downstream-service-cluster");
  static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
  static final AsciiString TRACESTATE = AsciiString.cached("tracestate");
  static final AsciiString B3 = AsciiString.cached("b3");
  static final AsciiString X_B3_TRACEID = AsciiString.cached("x-b3-traceid");
  static final AsciiString X_B3_SPANID = AsciiString.cached("x-b3-spanid");
  static final AsciiString X_B3_PARENTSPANID = AsciiString.cached("x-b3-parentspanid");
  static final AsciiString X_B3_SAMPLED = AsciiString.cached("x-b3-sampled");
  static final AsciiString X_B3_FLAGS = AsciiString.cached("x-b3-flags");

  private TraceHeaders() {}
}
