package dev.bowline.proxy.runtime;

import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.upstream.Worker;
import io.netty.util.concurrent.EventExecutor;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The state a running proxy shares with its connections. The config is one reference swapped whole;
 * a request reads it once when it starts. Workers are fixed at start, one per event loop. {@code
 * values} are the runtime keys read from the bootstrap's {@code layered_runtime}; {@code
 * healthCheckFailed} is the admin's {@code /healthcheck/fail} (Envoy's {@code
 * healthCheckFailed()}), which drain-closes the connections of {@code drain_type: DEFAULT}
 * listeners.
 */
public record ProxyRuntime(
    AtomicReference<ProxySnapshot> config,
    Map<EventExecutor, Worker> workers,
    Stats stats,
    FilterRegistry filters,
    AtomicBoolean draining,
    dev.bowline.proxy.tls.TlsContexts tls,
    RuntimeValues values,
    AtomicBoolean healthCheckFailed) {

  /** A runtime whose health check never fails ({@code /healthcheck/fail} is the proxy's). */
  public ProxyRuntime(
      AtomicReference<ProxySnapshot> config,
      Map<EventExecutor, Worker> workers,
      Stats stats,
      FilterRegistry filters,
      AtomicBoolean draining,
      dev.bowline.proxy.tls.TlsContexts tls,
      RuntimeValues values) {
    this(config, workers, stats, filters, draining, tls, values, new AtomicBoolean());
  }

  /** A runtime with Envoy's default runtime values (no {@code layered_runtime}). */
  public ProxyRuntime(
      AtomicReference<ProxySnapshot> config,
      Map<EventExecutor, Worker> workers,
      Stats stats,
      FilterRegistry filters,
      AtomicBoolean draining,
      dev.bowline.proxy.tls.TlsContexts tls) {
    this(config, workers, stats, filters, draining, tls, RuntimeValues.DEFAULT);
  }

  /** A runtime with no TLS secrets (tests, plaintext-only setups). */
  public ProxyRuntime(
      AtomicReference<ProxySnapshot> config,
      Map<EventExecutor, Worker> workers,
      Stats stats,
      FilterRegistry filters,
      AtomicBoolean draining) {
    this(
        config,
        workers,
        stats,
        filters,
        draining,
        new dev.bowline.proxy.tls.TlsContexts(new dev.bowline.proxy.tls.SecretStore()));
  }

  /** The current configuration. */
  public ProxySnapshot snapshot() {
    return config.get();
  }

  /** The worker of {@code loop}; every loop of the proxy's group has one. */
  public Worker worker(EventExecutor loop) {
    Worker w = workers.get(loop);
    if (w == null) {
      throw new IllegalStateException("no worker for event loop " + loop);
    }
    return w;
  }

  public boolean isDraining() {
    return draining.get();
  }

  /**
   * Envoy's {@code DrainManagerImpl::drainClose} for a listener of {@code drain_type: DEFAULT}:
   * whether its connections close as the proxy's drain closes them, because the proxy drains or
   * because its health check is failed ({@code /healthcheck/fail}, until {@code /healthcheck/ok}).
   * Two volatile reads.
   */
  public boolean drainClose() {
    return draining.get() || healthCheckFailed.get();
  }

  /**
   * Set on a downstream connection of a listener of {@code drain_type: MODIFY_ONLY}: the proxy's
   * failed health check does not drain it ({@link #drainClose()} is not its drain).
   */
  public static final io.netty.util.AttributeKey<Boolean> MODIFY_ONLY_DRAIN =
      io.netty.util.AttributeKey.newInstance("bowline.modify_only_drain");

  /**
   * Set on a downstream connection whose listener was changed or removed: it finishes the request
   * in flight, answers with {@code connection: close}, and is closed after the drain time.
   */
  public static final io.netty.util.AttributeKey<Boolean> CONNECTION_DRAINING =
      io.netty.util.AttributeKey.newInstance("bowline.connection_draining");

  /**
   * Set on a downstream connection whose listener is being replaced or removed: the RDS route
   * tables its connection manager named in the last snapshot that had that listener. A draining
   * connection still serves its next requests; if the new snapshot no longer has the route
   * configuration the old listener named (the new listener names another), the request is routed by
   * the table the listener last had instead of getting 404.
   */
  public static final io.netty.util.AttributeKey<
          java.util.Map<String, dev.bowline.proxy.config.RouteTable>>
      LISTENER_ROUTES = io.netty.util.AttributeKey.newInstance("bowline.listener_routes");

  /**
   * The route table {@code name} pinned on {@code ch}'s connection when its listener began to
   * drain, or null.
   */
  public static dev.bowline.proxy.config.@org.jspecify.annotations.Nullable RouteTable pinnedRoutes(
      io.netty.channel.Channel ch, String name) {
    var m = connectionOf(ch).attr(LISTENER_ROUTES).get();
    return m == null ? null : m.get(name);
  }

  private static io.netty.channel.Channel connectionOf(io.netty.channel.Channel ch) {
    return ch.parent() != null && !(ch.parent() instanceof io.netty.channel.ServerChannel)
        ? ch.parent()
        : ch;
  }

  /** Whether {@code ch} (or, for an HTTP/2 stream, its connection) is draining. */
  public boolean isDraining(io.netty.channel.Channel ch) {
    if (draining.get()) {
      return true;
    }
    io.netty.channel.Channel c =
        ch.parent() != null && !(ch.parent() instanceof io.netty.channel.ServerChannel)
            ? ch.parent()
            : ch;
    return Boolean.TRUE.equals(c.attr(CONNECTION_DRAINING).get());
  }
}
