package dev.bowline.proxy.http.filter.stats;

import java.util.Set;

/**
 * What a stats config ({@code metrics[]}) changes about one metric.
 *
 * @param drop the metric is not reported at all
 * @param tagsToRemove labels left out (series that then look alike are added up)
 */
public record MetricOverride(boolean drop, Set<String> tagsToRemove) {
  public static final MetricOverride NONE = new MetricOverride(false, Set.of());

  public MetricOverride {
    tagsToRemove = Set.copyOf(tagsToRemove);
  }
}
