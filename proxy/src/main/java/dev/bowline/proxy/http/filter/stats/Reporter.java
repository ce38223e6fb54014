package dev.bowline.proxy.http.filter.stats;

/** Istio's {@code reporter} label: which side of the call counted it. */
public enum Reporter {
  /** The client's sidecar (outbound, {@code root_id: stats_outbound}). */
  SOURCE("source"),
  /** The server's sidecar (inbound, {@code root_id: stats_inbound}). */
  DESTINATION("destination");

  private final String label;

  Reporter(String label) {
    this.label = label;
  }

  /** The label value. */
  public String label() {
    return label;
  }
}
