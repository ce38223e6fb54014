package dev.bowline.proxy;

import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.FilterChain;
import dev.bowline.proxy.config.ListenerConfig;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.tls.CommonTls;
import dev.bowline.proxy.tls.DownstreamTls;
import dev.bowline.proxy.tls.SdsSource;
import dev.bowline.proxy.tls.SecretKey;
import dev.bowline.proxy.tls.SecretStore;
import dev.bowline.proxy.tls.UpstreamTls;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The TLS contexts a snapshot uses and the SDS secrets they need. */
final class TlsUse {
  private TlsUse() {}

  static List<UpstreamTls> upstream(ProxySnapshot s) {
    List<UpstreamTls> out = new ArrayList<>();
    for (ClusterConfig c : s.clusters().values()) {
      out.addAll(c.transport().all());
    }
    return out;
  }

  static List<DownstreamTls> downstream(ProxySnapshot s) {
    List<DownstreamTls> out = new ArrayList<>();
    for (ListenerConfig l : s.listeners().values()) {
      for (FilterChain fc : l.filterChains()) {
        fc.tls().ifPresent(out::add);
      }
      l.defaultChain().flatMap(FilterChain::tls).ifPresent(out::add);
    }
    return out;
  }

  /** Adds the names {@code c} needs from gRPC SDS sources to {@code wanted} (by cluster). */
  static void collect(CommonTls c, Map<String, Set<String>> wanted) {
    for (SecretKey k : c.sdsSecrets()) {
      if (k.source() instanceof SdsSource.Grpc g) {
        wanted.computeIfAbsent(g.cluster(), x -> new TreeSet<>()).add(k.name());
      }
    }
  }

  static boolean present(CommonTls c, SecretStore secrets) {
    for (SecretKey k : c.sdsSecrets()) {
      if (secrets.get(k).isEmpty()) {
        return false;
      }
    }
    return true;
  }
}
