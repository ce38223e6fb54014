package dev.bowline.api.model;

import java.util.Map;

/** Security, telemetry and extensions' workload selector ({@code selector.matchLabels}). */
public record LabelSelector(Map<String, String> matchLabels) {
  public LabelSelector {
    matchLabels = Freeze.map(matchLabels);
  }
}
