package dev.bowline.proxy.stats;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Envoy's virtual cluster stats, {@code vhost.<virtual host>.vcluster.<virtual cluster>.*}: {@code
 * upstream_rq_total} (each try sent upstream), {@code upstream_rq_completed}, {@code
 * upstream_rq_<class>xx} and {@code upstream_rq_<code>} (each upstream response or the router's 5xx
 * for a failed try, as Envoy's {@code CodeStatsImpl::chargeResponseStat} charges them beside the
 * cluster's), {@code upstream_rq_time} (milliseconds to the end of the upstream response), {@code
 * upstream_rq_timeout} and {@code upstream_rq_retry}. Made once per virtual cluster of a route
 * table; a code's counter is made the first time that code is seen and kept in a slot, so a
 * response looks nothing up by name.
 */
public final class VirtualClusterStats {
  private final Stats stats;
  private final String prefix;
  private final Map<String, String> tags;
  private final Counter total;
  private final Counter completed;
  private final Counter timeout;
  private final Counter retry;
  private final Counter[] xx = new Counter[6];
  private final AtomicReferenceArray<Counter> codes = new AtomicReferenceArray<>(600);
  private final Histogram time;

  private VirtualClusterStats(Stats s, String vhost, String vcluster) {
    this.stats = s;
    this.prefix = "vhost." + vhost + ".vcluster." + vcluster + ".";
    this.tags = Map.of("envoy_virtual_host_name", vhost, "envoy_virtual_cluster_name", vcluster);
    this.total =
        s.counter(prefix + "upstream_rq_total", "envoy_vhost_vcluster_upstream_rq_total", tags);
    this.completed =
        s.counter(
            prefix + "upstream_rq_completed", "envoy_vhost_vcluster_upstream_rq_completed", tags);
    this.timeout =
        s.counter(prefix + "upstream_rq_timeout", "envoy_vhost_vcluster_upstream_rq_timeout", tags);
    this.retry =
        s.counter(prefix + "upstream_rq_retry", "envoy_vhost_vcluster_upstream_rq_retry", tags);
    for (int i = 1; i <= 5; i++) {
      xx[i] =
          s.counter(
              prefix + "upstream_rq_" + i + "xx",
              "envoy_vhost_vcluster_upstream_rq_xx",
              with("envoy_response_code_class", String.valueOf(i)));
    }
    this.time =
        s.histogram(prefix + "upstream_rq_time", "envoy_vhost_vcluster_upstream_rq_time", tags);
  }

  static VirtualClusterStats create(Stats s, String vhost, String vcluster) {
    return new VirtualClusterStats(s, vhost, vcluster);
  }

  private Map<String, String> with(String k, String v) {
    var m = new java.util.HashMap<>(tags);
    m.put(k, v);
    return m;
  }

  /** A try sent upstream. */
  public void request() {
    total.inc();
  }

  /** A response with {@code status} (an upstream's, or the router's for a try that failed). */
  public void response(int status) {
    completed.inc();
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) {
      xx[cls].inc();
    }
    if (status >= 0 && status < 600) {
      Counter c = codes.getPlain(status);
      if (c == null) {
        // once per code: the Stats map returns the same counter to every thread that races here
        c =
            stats.counter(
                prefix + "upstream_rq_" + status,
                "envoy_vhost_vcluster_upstream_rq",
                with("envoy_response_code", String.valueOf(status)));
        codes.set(status, c);
      }
      c.inc();
    }
  }

  /** The time from the request's start to the end of the upstream response. */
  public void time(long millis) {
    time.record(millis);
  }

  public void timeout() {
    timeout.inc();
  }

  public void retry() {
    retry.inc();
  }
}
