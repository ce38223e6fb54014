package dev.bowline.proxy.tls;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SDS secrets the proxy holds, by source and name. Written by the SDS clients, read by {@link
 * TlsContexts} when it builds an SSL context. Every change bumps {@link #version()}, which is how
 * contexts notice a rotation; connections already open keep the context they were made with.
 */
public final class SecretStore {
  private final ConcurrentHashMap<SecretKey, Secret> secrets = new ConcurrentHashMap<>();
  private final AtomicLong version = new AtomicLong();
  private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();

  /** The secret {@code key}, if it has arrived. */
  public Optional<Secret> get(SecretKey key) {
    return Optional.ofNullable(secrets.get(key));
  }

  /** Sets (or replaces) a secret; a no-op when it is unchanged. */
  public void put(SecretKey key, Secret secret) {
    Secret old = secrets.put(key, secret);
    if (!secret.equals(old)) {
      version.incrementAndGet();
      listeners.forEach(Runnable::run);
    }
  }

  /** Removes a secret. */
  public void remove(SecretKey key) {
    if (secrets.remove(key) != null) {
      version.incrementAndGet();
      listeners.forEach(Runnable::run);
    }
  }

  /** Increases with every change. */
  public long version() {
    return version.get();
  }

  /** Runs {@code r} after every change (on the thread that made it). */
  public void onChange(Runnable r) {
    listeners.add(r);
  }

  /** Every secret held, for the admin page. */
  public Map<SecretKey, Secret> all() {
    return Map.copyOf(secrets);
  }
}
