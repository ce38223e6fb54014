/**
 * Distributed tracing as Envoy's HTTP connection manager does it: the {@code tracing} config
 * ({@link dev.bowline.proxy.tracing.TracingConfig}), Envoy's x-request-id sampling ({@link
 * dev.bowline.proxy.tracing.Sampling}), W3C and B3 propagation ({@link
 * dev.bowline.proxy.tracing.TraceContext}), spans with Envoy's tags ({@link
 * dev.bowline.proxy.tracing.Span}) and their export off the event loops ({@link
 * dev.bowline.proxy.tracing.SpanReporter}): OTLP over gRPC or HTTP, Zipkin JSON v2.
 */
@NullMarked
package dev.bowline.proxy.tracing;

import org.jspecify.annotations.NullMarked;
