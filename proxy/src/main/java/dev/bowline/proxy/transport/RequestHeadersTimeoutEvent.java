package dev.bowline.proxy.transport;

/**
 * The user event an HTTP/1 server codec fires when a request head began (its first byte was read)
 * longer ago than the connection manager's {@code request_headers_timeout} and has not ended.
 */
public enum RequestHeadersTimeoutEvent {
  INSTANCE
}
