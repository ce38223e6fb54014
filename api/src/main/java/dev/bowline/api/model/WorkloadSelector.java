package dev.bowline.api.model;

import java.util.Map;

/** Networking's workload selector: the labels a workload must carry. */
public record WorkloadSelector(Map<String, String> labels) {
  public WorkloadSelector {
    labels = Freeze.map(labels);
  }
}
