package dev.bowline.proxy.http.filter.fault;

import dev.bowline.proxy.config.HeaderMatch;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The fault filter's config (also its per-route config).
 *
 * @param delay a fixed delay for a share of requests
 * @param abort a local answer for a share of requests
 * @param headers request headers that must all match for any fault to apply
 */
public record FaultConfig(Optional<Delay> delay, Optional<Abort> abort, List<HeaderMatch> headers) {
  public FaultConfig {
    headers = List.copyOf(headers);
  }

  /** Delay {@code perMillion} of the requests by {@code duration}. */
  public record Delay(Duration duration, int perMillion) {}

  /** Answer {@code perMillion} of the requests locally. */
  public sealed interface Abort {
    int perMillion();
  }

  /** With HTTP {@code status} (mapped to a grpc-status for gRPC requests, as Envoy does). */
  public record HttpAbort(int status, int perMillion) implements Abort {}

  /** With {@code grpc-status: status} in a trailers-only response. */
  public record GrpcAbort(int status, int perMillion) implements Abort {}
}
