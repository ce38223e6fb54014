package dev.bowline.samples.weather;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which request headers an app copies onto the calls it makes, so the mesh can join spans into a
 * trace and route by user: what Istio asks every app to do (as Bookinfo's productpage does).
 *
 * <p>Copied: {@code x-request-id} and every other {@code x-} header, W3C {@code traceparent},
 * {@code tracestate} and {@code baggage}, Zipkin {@code b3} and {@code x-b3-*}, {@code
 * grpc-trace-bin}, {@code sw8}, and {@code user-agent}, {@code cookie} and {@code authorization}
 * (user-based routing and end-user auth). Not copied: {@code x-forwarded-*} and {@code x-envoy-*},
 * which the proxies own, and the app's own identity response headers ({@link #IDENTITY}).
 */
final class Propagation {

  private static final Set<String> NAMED =
      Set.of(
          "traceparent",
          "tracestate",
          "baggage",
          "b3",
          "grpc-trace-bin",
          "sw8",
          "user-agent",
          "cookie",
          "authorization");

  /** The app's own response headers: never sent upstream. */
  static final Set<String> IDENTITY =
      Set.of("x-weather-service", "x-weather-version", "x-weather-instance");

  private Propagation() {}

  /** Whether a header (any case) is copied to outbound calls. */
  static boolean propagates(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (NAMED.contains(n)) {
      return true;
    }
    return n.startsWith("x-")
        && !n.startsWith("x-forwarded-")
        && !n.startsWith("x-envoy-")
        && !IDENTITY.contains(n);
  }

  /** The headers of {@code request} to copy, lower-cased names, values in order. */
  static List<Map.Entry<String, String>> select(Map<String, List<String>> request) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : request.entrySet()) {
      if (e.getKey() != null && propagates(e.getKey())) {
        String name = e.getKey().toLowerCase(Locale.ROOT);
        for (String value : e.getValue()) {
          out.add(Map.entry(name, value));
        }
      }
    }
    return List.copyOf(out);
  }
}
