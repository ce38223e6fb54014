package dev.bowline.proxy.config;

import java.util.List;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/** Which upstream cluster a request or connection goes to. */
public sealed interface ClusterChoice {
  /** The cluster for this request, using {@code random} to pick among weights. */
  default String pick(RandomGenerator random) {
    return pick(random, name -> null);
  }

  /**
   * The cluster for this request: {@code headers} looks a request header up by lower-case name; an
   * empty string when the choice needs a header the request lacks.
   */
  String pick(RandomGenerator random, Function<String, @Nullable String> headers);

  /** {@code cluster_header}: the cluster named by a request header. */
  record FromHeader(String header) implements ClusterChoice {
    @Override
    public String pick(RandomGenerator random, Function<String, @Nullable String> headers) {
      String v = headers.apply(header);
      return v == null ? "" : v;
    }
  }

  /** One cluster. */
  record Single(String cluster) implements ClusterChoice {
    @Override
    public String pick(RandomGenerator random, Function<String, @Nullable String> headers) {
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
    public String pick(RandomGenerator random, Function<String, @Nullable String> headers) {
      return pickEntry(random).name();
    }

    /** The cluster for this request, with its own header mutations. */
    public WeightedCluster pickEntry(RandomGenerator random) {
      int r = random.nextInt(totalWeight);
      for (WeightedCluster c : clusters) {
        r -= c.weight();
        if (r < 0) {
          return c;
        }
      }
      return clusters.getLast();
    }
  }

  /**
   * A cluster with its weight and the headers it adds or removes ({@code request_headers_to_add}
   * and friends of a {@code weighted_clusters} entry, applied before the route's).
   */
  record WeightedCluster(
      String name, int weight, HeaderMutation requestHeaders, HeaderMutation responseHeaders) {
    public WeightedCluster(String name, int weight) {
      this(name, weight, HeaderMutation.NONE, HeaderMutation.NONE);
    }
  }
}
