package dev.bowline.proxy.xds;

import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** {@code envoy.config.route.v3.RetryPolicy} → {@link RetryPolicy}. */
final class RetryPolicies {
  static final String PREVIOUS_HOSTS =
      "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate";
  static final String PREVIOUS_PRIORITIES =
      "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3"
          + ".PreviousPrioritiesConfig";

  private RetryPolicies() {}

  static RetryPolicy parse(io.envoyproxy.envoy.config.route.v3.RetryPolicy p, String field)
      throws InvalidResourceException {
    Set<RetryPolicy.RetryOn> on = EnumSet.noneOf(RetryPolicy.RetryOn.class);
    for (String token : p.getRetryOn().split(",")) {
      String t = token.trim();
      if (t.isEmpty()) {
        continue;
      }
      RetryPolicy.RetryOn r = RetryPolicy.RetryOn.of(t);
      if (r == null) {
        throw new InvalidResourceException(
            field + ".retry_on", "unknown retry condition '" + t + "'");
      }
      on.add(r);
    }
    Set<Integer> codes = new HashSet<>();
    for (int i = 0; i < p.getRetriableStatusCodesCount(); i++) {
      int c = p.getRetriableStatusCodes(i);
      if (c < 100 || c > 599) {
        throw new InvalidResourceException(
            field + ".retriable_status_codes[" + i + "]", "not an HTTP status: " + c);
      }
      codes.add(c);
    }
    List<HeaderMatch> headers = new ArrayList<>();
    for (int i = 0; i < p.getRetriableHeadersCount(); i++) {
      headers.add(
          RouteConfigParser.header(
              p.getRetriableHeaders(i), field + ".retriable_headers[" + i + "]"));
    }
    Duration perTry = p.hasPerTryTimeout() ? Protos.duration(p.getPerTryTimeout()) : Duration.ZERO;
    if (perTry.isNegative()) {
      throw new InvalidResourceException(field + ".per_try_timeout", "must not be negative");
    }
    Duration base = RetryPolicy.DEFAULT_BASE_INTERVAL;
    Duration max = null;
    if (p.hasRetryBackOff()) {
      var b = p.getRetryBackOff();
      if (!b.hasBaseInterval()) {
        throw new InvalidResourceException(field + ".retry_back_off.base_interval", "is required");
      }
      base = Protos.duration(b.getBaseInterval());
      if (base.toMillis() < 1) {
        throw new InvalidResourceException(
            field + ".retry_back_off.base_interval", "must be at least 1ms");
      }
      if (b.hasMaxInterval()) {
        max = Protos.duration(b.getMaxInterval());
        if (max.compareTo(base) < 0) {
          throw new InvalidResourceException(
              field + ".retry_back_off.max_interval", "must be at least base_interval");
        }
      }
    }
    boolean previousHosts = false;
    for (int i = 0; i < p.getRetryHostPredicateCount(); i++) {
      var pred = p.getRetryHostPredicate(i);
      String type = pred.hasTypedConfig() ? pred.getTypedConfig().getTypeUrl() : "";
      if (type.equals(PREVIOUS_HOSTS)
          || pred.getName().equals("envoy.retry_host_predicates.previous_hosts")) {
        previousHosts = true;
      } else {
        throw new InvalidResourceException(
            field + ".retry_host_predicate[" + i + "]",
            "unsupported retry host predicate " + pred.getName() + " " + type);
      }
    }
    if (p.hasRetryPriority()) {
      var pr = p.getRetryPriority();
      String type = pr.hasTypedConfig() ? pr.getTypedConfig().getTypeUrl() : "";
      // Endpoints carry no priorities here yet, so every host is priority 0 and there is nothing
      // to move away from: accepted as a no-op (what istiod sets for retryRemoteLocalities).
      if (!type.equals(PREVIOUS_PRIORITIES)
          && !pr.getName().equals("envoy.retry_priorities.previous_priorities")) {
        throw new InvalidResourceException(
            field + ".retry_priority", "unsupported retry priority " + pr.getName() + " " + type);
      }
    }
    long hostAttempts = p.getHostSelectionRetryMaxAttempts();
    return new RetryPolicy(
        p.hasNumRetries() ? p.getNumRetries().getValue() : 1,
        on,
        codes,
        headers,
        perTry,
        base,
        max == null ? base.multipliedBy(10) : max,
        previousHosts,
        (int) Math.min(Math.max(hostAttempts, previousHosts ? 1 : 0), 100));
  }
}
