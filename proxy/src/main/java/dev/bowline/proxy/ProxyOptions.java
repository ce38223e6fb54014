package dev.bowline.proxy;

import dev.bowline.proxy.transport.Transport;
import java.time.Clock;
import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * How to run a proxy.
 *
 * @param workers event loops (one per core is Envoy's default)
 * @param transport Netty I/O transport
 * @param drainTime how long a draining listener (changed or removed by LDS, {@code
 *     /drain_listeners}, SIGTERM) lets its connections finish before it closes what is left
 * @param clock for timestamps in config dumps
 * @param random seeds each worker's generator (load balancing, weights, request ids)
 * @param xdsInitialBackoff first reconnect delay of the xDS stream
 * @param xdsMaxBackoff longest reconnect delay
 */
public record ProxyOptions(
    int workers,
    Transport transport,
    Duration drainTime,
    Clock clock,
    RandomGenerator random,
    Duration xdsInitialBackoff,
    Duration xdsMaxBackoff) {

  /**
   * One worker per core, the machine's default transport, 5 s drain (Envoy's -drain-time-s is 600).
   */
  public static ProxyOptions defaults() {
    return new ProxyOptions(
        Runtime.getRuntime().availableProcessors(),
        Transport.detect(),
        Duration.ofSeconds(5),
        Clock.systemUTC(),
        new java.util.SplittableRandom(),
        Duration.ofMillis(500),
        Duration.ofSeconds(30));
  }

  public ProxyOptions withWorkers(int n) {
    return new ProxyOptions(
        n, transport, drainTime, clock, random, xdsInitialBackoff, xdsMaxBackoff);
  }

  public ProxyOptions withTransport(Transport t) {
    return new ProxyOptions(workers, t, drainTime, clock, random, xdsInitialBackoff, xdsMaxBackoff);
  }

  public ProxyOptions withDrainTime(Duration d) {
    return new ProxyOptions(workers, transport, d, clock, random, xdsInitialBackoff, xdsMaxBackoff);
  }

  public ProxyOptions withClock(Clock c) {
    return new ProxyOptions(
        workers, transport, drainTime, c, random, xdsInitialBackoff, xdsMaxBackoff);
  }

  public ProxyOptions withXdsBackoff(Duration initial, Duration max) {
    return new ProxyOptions(workers, transport, drainTime, clock, random, initial, max);
  }
}
