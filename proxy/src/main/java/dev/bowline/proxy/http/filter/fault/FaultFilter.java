package dev.bowline.proxy.http.filter.fault;

import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.http.filter.StreamContext;
import io.netty.handler.codec.http.HttpRequest;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One stream's fault filter: as Envoy, the route's config wins over the filter's; the delay comes
 * first, then the abort, each drawn on its own share.
 */
final class FaultFilter implements HttpFilter {
  private final FaultConfig filterConfig;

  FaultFilter(FaultConfig filterConfig) {
    this.filterConfig = filterConfig;
  }

  @Override
  public FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    FaultConfig c = routeConfig instanceof FaultConfig rc ? rc : filterConfig;
    if (c.delay().isEmpty() && c.abort().isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    for (HeaderMatch h : c.headers()) {
      var all = request.headers().getAll(h.name());
      if (!h.matches(all.isEmpty() ? null : String.join(",", all))) {
        return FilterStatus.CONTINUE;
      }
    }
    var delay = c.delay().orElse(null);
    if (delay != null && draw(stream, delay.perMillion())) {
      stream.addResponseFlag(ResponseFlag.DI);
      stream
          .executor()
          .schedule(
              () -> {
                if (!stream.done() && !abort(c, stream)) {
                  stream.continueDecoding();
                }
              },
              delay.duration().toNanos(),
              TimeUnit.NANOSECONDS);
      return FilterStatus.STOP_ITERATION;
    }
    return abort(c, stream) ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
  }

  /** Aborts the request if the config says so and the draw hits; true when it did. */
  private static boolean abort(FaultConfig c, StreamContext stream) {
    var abort = c.abort().orElse(null);
    if (abort == null || !draw(stream, abort.perMillion())) {
      return false;
    }
    switch (abort) {
      case FaultConfig.HttpAbort h ->
          stream.sendLocalReply(h.status(), "fault filter abort", ResponseFlag.FI);
      case FaultConfig.GrpcAbort g ->
          stream.sendGrpcReply(g.status(), "fault filter abort", ResponseFlag.FI);
    }
    return true;
  }

  private static boolean draw(StreamContext stream, int perMillion) {
    return perMillion >= 1_000_000
        || (perMillion > 0 && stream.random().nextInt(1_000_000) < perMillion);
  }
}
