package dev.bowline.proxy.transport;

/**
 * The user event an HTTP/1 server codec fires when its connection has neither read nor written for
 * the connection manager's {@code common_http_protocol_options.idle_timeout} (once per such
 * period). Whether the connection has a stream then is the connection manager's to say: only one
 * without is idle in Envoy's sense.
 */
public enum ConnectionIdleEvent {
  INSTANCE
}
