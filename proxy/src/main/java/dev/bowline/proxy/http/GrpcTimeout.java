package dev.bowline.proxy.http;

import org.jspecify.annotations.Nullable;

/**
 * A gRPC request's {@code grpc-timeout} header as Envoy's router uses it under a route's {@code
 * max_grpc_timeout}: the header's timeout (an ASCII integer of at most 8 digits and a unit, {@code
 * H M S m u n}, as the gRPC over HTTP/2 spec writes it) less {@code grpc_timeout_offset}, capped at
 * {@code max_grpc_timeout}; 0 means no timeout, and a missing or malformed header counts as none.
 */
final class GrpcTimeout {
  static final String HEADER = "grpc-timeout";

  private GrpcTimeout() {}

  /**
   * The route timeout in ms for a gRPC request whose {@code grpc-timeout} is {@code header}, under
   * {@code maxMillis} (0: no cap) and {@code offsetMillis}; 0 is no timeout.
   */
  static long routeMillis(@Nullable String header, long maxMillis, long offsetMillis) {
    long t = parseMillis(header);
    if (offsetMillis < t) {
      t -= offsetMillis; // never down to 0, which would mean no timeout
    }
    if (maxMillis > 0 && (t == 0 || t > maxMillis)) {
      t = maxMillis;
    }
    return t;
  }

  /** {@code header}'s timeout in ms (sub-millisecond rounds up), 0 when missing or malformed. */
  static long parseMillis(@Nullable String header) {
    if (header == null || header.length() < 2 || header.length() > 9) {
      return 0;
    }
    int n = header.length() - 1;
    long v = 0;
    for (int i = 0; i < n; i++) {
      char c = header.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      v = v * 10 + (c - '0');
    }
    return switch (header.charAt(n)) {
      case 'H' -> v * 3_600_000;
      case 'M' -> v * 60_000;
      case 'S' -> v * 1000;
      case 'm' -> v;
      case 'u' -> (v + 999) / 1000;
      case 'n' -> (v + 999_999) / 1_000_000;
      default -> 0;
    };
  }
}
