package dev.bowline.proxy.config;

import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.stats.VirtualClusterStats;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A virtual host's {@code virtual_clusters} entry: a request whose headers all match ({@code
 * :method}, {@code :path}, {@code :authority} included) is counted in its stats; Envoy's catch-all
 * {@code other} has no headers and takes the rest. Its stats are looked up once, on the first
 * request that needs them, then kept here.
 */
public final class VirtualCluster {
  /** Envoy's name for the catch-all a virtual host with virtual clusters adds. */
  public static final String OTHER = "other";

  private final String vhost;
  private final String name;
  private final List<HeaderMatch> headers;
  private volatile @Nullable VirtualClusterStats stats;

  public VirtualCluster(String vhost, String name, List<HeaderMatch> headers) {
    this.vhost = vhost;
    this.name = name;
    this.headers = List.copyOf(headers);
  }

  public String name() {
    return name;
  }

  public List<HeaderMatch> headers() {
    return headers;
  }

  /** Its stats in {@code s}, made on first use. */
  public VirtualClusterStats stats(Stats s) {
    VirtualClusterStats v = stats;
    if (v == null) {
      stats = v = s.virtualCluster(vhost, name);
    }
    return v;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VirtualCluster v
        && v.vhost.equals(vhost)
        && v.name.equals(name)
        && v.headers.equals(headers);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(vhost, name, headers);
  }

  @Override
  public String toString() {
    return "VirtualCluster[" + name + ", " + headers + "]";
  }
}
