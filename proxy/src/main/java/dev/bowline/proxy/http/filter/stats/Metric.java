package dev.bowline.proxy.http.filter.stats;

/** Istio's standard HTTP metrics, by their stats-config name ({@code metrics[].name}). */
public enum Metric {
  REQUESTS_TOTAL("requests_total", "counter"),
  REQUEST_DURATION_MILLISECONDS("request_duration_milliseconds", "histogram"),
  REQUEST_BYTES("request_bytes", "histogram"),
  RESPONSE_BYTES("response_bytes", "histogram");

  private final String configName;
  private final String type;

  Metric(String configName, String type) {
    this.configName = configName;
    this.type = type;
  }

  /** The name in the stats config and, after {@code <stat_prefix>_}, in Prometheus. */
  public String configName() {
    return configName;
  }

  /** The Prometheus type. */
  public String type() {
    return type;
  }

  /** The metric named {@code name} in a stats config, or null. */
  static @org.jspecify.annotations.Nullable Metric byConfigName(String name) {
    for (Metric m : values()) {
      if (m.configName.equals(name)) {
        return m;
      }
    }
    return null;
  }
}
