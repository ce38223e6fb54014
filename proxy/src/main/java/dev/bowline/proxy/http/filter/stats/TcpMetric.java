package dev.bowline.proxy.http.filter.stats;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** Istio's standard TCP metrics (all counters), by their stats-config name. */
public enum TcpMetric {
  SENT_BYTES("tcp_sent_bytes_total"),
  RECEIVED_BYTES("tcp_received_bytes_total"),
  CONNECTIONS_OPENED("tcp_connections_opened_total"),
  CONNECTIONS_CLOSED("tcp_connections_closed_total");

  /**
   * The TCP metrics' labels: Istio's standard ones up to {@code connection_security_policy}, i.e.
   * without {@code response_code} and {@code grpc_response_status} (istio-proxy's {@code
   * count_tcp_labels}).
   */
  static final List<String> LABELS =
      Labels.NAMES.stream()
          .filter(n -> !n.equals("response_code") && !n.equals("grpc_response_status"))
          .toList();

  private final String configName;

  TcpMetric(String configName) {
    this.configName = configName;
  }

  /** The name in the stats config and, after {@code <stat_prefix>_}, in Prometheus. */
  public String configName() {
    return configName;
  }

  static @Nullable TcpMetric byConfigName(String name) {
    for (TcpMetric m : values()) {
      if (m.configName.equals(name)) {
        return m;
      }
    }
    return null;
  }
}
