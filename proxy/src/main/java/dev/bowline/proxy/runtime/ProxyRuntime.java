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
 * a request reads it once when it starts. Workers are fixed at start, one per event loop.
 */
public record ProxyRuntime(
    AtomicReference<ProxySnapshot> config,
    Map<EventExecutor, Worker> workers,
    Stats stats,
    FilterRegistry filters,
    AtomicBoolean draining,
    dev.bowline.proxy.tls.TlsContexts tls) {

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
   * Set on a downstream connection whose listener was changed or removed: it finishes the request
   * in flight, answers with {@code connection: close}, and is closed after the drain time.
   */
  public static final io.netty.util.AttributeKey<Boolean> CONNECTION_DRAINING =
      io.netty.util.AttributeKey.newInstance("bowline.connection_draining");

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
