package dev.bowline.proxy.config;

import java.util.List;
import java.util.random.RandomGenerator;

/** Which upstream cluster a request or connection goes to. */
public sealed interface ClusterChoice {
  /** The cluster for this request, using {@code random} to pick among weights. */
  String pick(RandomGenerator random);

  /** One cluster. */
  record Single(String cluster) implements ClusterChoice {
    @Override
    public String pick(RandomGenerator random) {
      return cluster;
    }
  }

  /** Several clusters with weights. */
  record Weighted(List<WeightedCluster> clusters, int totalWeight) implements ClusterChoice {
    public Weighted {
      clusters = List.copyOf(clusters);
      if (totalWeight <= 0) {
        throw new IllegalArgumentException("weights must add up to more than 0");
      }
    }

    public Weighted(List<WeightedCluster> clusters) {
      this(clusters, clusters.stream().mapToInt(WeightedCluster::weight).sum());
    }

    @Override
    public String pick(RandomGenerator random) {
      int r = random.nextInt(totalWeight);
      for (WeightedCluster c : clusters) {
        r -= c.weight();
        if (r < 0) {
          return c.name();
        }
      }
      return clusters.getLast().name();
    }
  }

  /** A cluster with its weight. */
  record WeightedCluster(String name, int weight) {}
}
