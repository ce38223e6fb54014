package dev.bowline.samples.weather;

import java.time.Duration;

/**
 * The fault switches of one app instance, for tests and the book's fault chapters: a fixed delay
 * before every API answer, and a share of API requests answered with an error status. Health and
 * admin endpoints are never affected.
 *
 * @param delay fixed delay added before each API answer; zero for none
 * @param errorRate share of API requests (0 to 1) answered with {@code errorStatus}
 * @param errorStatus the HTTP status of an injected error, 400 to 599
 */
public record Switches(Duration delay, double errorRate, int errorStatus) {

  /** No delay, no errors, 503 when errors are switched on. */
  public static final Switches NONE = new Switches(Duration.ZERO, 0, 503);

  /** Validates each switch, naming it. */
  public Switches {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay: must not be negative, got " + delay);
    }
    if (!(errorRate >= 0 && errorRate <= 1)) {
      throw new IllegalArgumentException("errorRate: must be between 0 and 1, got " + errorRate);
    }
    if (errorStatus < 400 || errorStatus > 599) {
      throw new IllegalArgumentException(
          "errorStatus: must be an HTTP error status 400-599, got " + errorStatus);
    }
  }

  /** A copy with another delay. */
  public Switches withDelay(Duration newDelay) {
    return new Switches(newDelay, errorRate, errorStatus);
  }

  /** A copy with another error rate. */
  public Switches withErrorRate(double newErrorRate) {
    return new Switches(delay, newErrorRate, errorStatus);
  }

  /** A copy with another error status. */
  public Switches withErrorStatus(int newErrorStatus) {
    return new Switches(delay, errorRate, newErrorStatus);
  }
}
