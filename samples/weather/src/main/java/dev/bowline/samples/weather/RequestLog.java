package dev.bowline.samples.weather;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * The last requests an instance served, for tests and demos that ask "did v2 see the mirrored
 * request?" or "which headers reached recommendation?". Bounded; oldest first.
 */
final class RequestLog {

  /**
   * One request as seen on arrival.
   *
   * @param at when it arrived
   * @param method the HTTP method
   * @param target the path and query
   * @param host the Host header
   * @param headers the propagated headers it carried
   */
  record Seen(
      Instant at,
      String method,
      String target,
      String host,
      List<Map.Entry<String, String>> headers) {}

  private final int capacity;
  private final ArrayDeque<Seen> recent;
  private long total;

  RequestLog(int capacity) {
    this.capacity = capacity;
    this.recent = new ArrayDeque<>(capacity);
  }

  synchronized void add(Seen seen) {
    if (recent.size() == capacity) {
      recent.removeFirst();
    }
    recent.addLast(seen);
    total++;
  }

  synchronized long total() {
    return total;
  }

  synchronized List<Seen> recent() {
    return List.copyOf(recent);
  }
}
