/**
 * The control plane's own trace collector: an OTLP receiver (gRPC {@code TraceService/Export} and
 * HTTP {@code POST /v1/traces}) keeping recent traces in a bounded store, served as JSON on the
 * monitoring port ({@code /api/traces}) for the dashboard, so a local mesh needs no extra server.
 */
@NullMarked
package dev.bowline.controlplane.traces;

import org.jspecify.annotations.NullMarked;
