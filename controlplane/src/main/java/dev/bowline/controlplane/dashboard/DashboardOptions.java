package dev.bowline.controlplane.dashboard;

import java.time.Duration;
import java.util.Objects;

/**
 * How the dashboard gathers metrics.
 *
 * @param scrapeInterval time between two scrapes of every proxy
 * @param window the sliding window rates and quantiles are computed over
 * @param scrapeTimeout how long one proxy may take to answer
 * @param statsPort the proxies' Prometheus port (Istio: 15090, {@code /stats/prometheus})
 */
public record DashboardOptions(
    Duration scrapeInterval, Duration window, Duration scrapeTimeout, int statsPort) {
  /** Scrape every 3 s, rates over 30 s, 2 s per proxy, port 15090. */
  public static final DashboardOptions DEFAULTS =
      new DashboardOptions(
          Duration.ofSeconds(3), Duration.ofSeconds(30), Duration.ofSeconds(2), 15090);

  public DashboardOptions {
    Objects.requireNonNull(scrapeInterval, "scrapeInterval");
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(scrapeTimeout, "scrapeTimeout");
    if (scrapeInterval.isNegative() || scrapeInterval.isZero()) {
      throw new IllegalArgumentException("scrapeInterval " + scrapeInterval + ": must be positive");
    }
    if (window.compareTo(scrapeInterval.multipliedBy(2)) < 0) {
      throw new IllegalArgumentException(
          "window "
              + window
              + ": must hold at least two scrapes (interval "
              + scrapeInterval
              + ")");
    }
    if (scrapeTimeout.isNegative() || scrapeTimeout.isZero()) {
      throw new IllegalArgumentException("scrapeTimeout " + scrapeTimeout + ": must be positive");
    }
    if (statsPort < 1 || statsPort > 65535) {
      throw new IllegalArgumentException("statsPort " + statsPort + ": must be 1..65535");
    }
  }
}
