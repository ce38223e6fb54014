package dev.bowline.proxy.network.extauthz;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.network.NetworkFilterFactory;
import dev.bowline.proxy.network.ReadFilter;
import dev.bowline.proxy.rbac.RbacProtos;
import dev.bowline.proxy.stats.Stats;
import io.envoyproxy.envoy.extensions.filters.network.ext_authz.v3.ExtAuthz;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Factory of {@code envoy.filters.network.ext_authz}. */
public final class NetworkExtAuthzFactory implements NetworkFilterFactory {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz";

  private final Stats stats;

  /** A factory whose counters ({@code <stat_prefix>ext_authz.*}) are in {@code stats}. */
  public NetworkExtAuthzFactory(Stats stats) {
    this.stats = stats;
  }

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public ReadFilter parse(Any typedConfig) throws InvalidProtocolBufferException {
    return config(Anys.unpack(typedConfig, ExtAuthz.getDescriptor(), ExtAuthz.parser()));
  }

  NetworkExtAuthz config(ExtAuthz p) {
    if (p.getStatPrefix().isEmpty()) {
      throw new IllegalArgumentException("stat_prefix: must not be empty");
    }
    if (!p.getGrpcService().hasEnvoyGrpc()
        || p.getGrpcService().getEnvoyGrpc().getClusterName().isEmpty()) {
      throw new IllegalArgumentException("grpc_service.envoy_grpc.cluster_name: is required");
    }
    var g = p.getGrpcService();
    String cluster = g.getEnvoyGrpc().getClusterName();
    String authority = g.getEnvoyGrpc().getAuthority();
    Optional<NetworkExtAuthz.Enabled> enabled = Optional.empty();
    if (p.hasFilterEnabledMetadata()) {
      var m = p.getFilterEnabledMetadata();
      List<String> path = new ArrayList<>();
      m.getPathList().forEach(s -> path.add(s.getKey()));
      if (m.getFilter().isEmpty() || path.isEmpty() || !m.hasValue()) {
        throw new IllegalArgumentException(
            "filter_enabled_metadata: filter, path and value are required");
      }
      enabled =
          Optional.of(
              new NetworkExtAuthz.Enabled(
                  m.getFilter(),
                  path,
                  RbacProtos.value(m.getValue(), "filter_enabled_metadata.value"),
                  m.getInvert()));
    }
    String prefix = p.getStatPrefix() + "ext_authz.";
    return new NetworkExtAuthz(
        cluster,
        authority.isEmpty() ? cluster : authority,
        g.hasTimeout()
            ? Duration.ofSeconds(g.getTimeout().getSeconds(), g.getTimeout().getNanos())
            : Duration.ofMillis(200), // Envoy's default for the network filter's check
        p.getFailureModeAllow(),
        enabled,
        new NetworkExtAuthz.Counters(
            counter(prefix + "total"),
            counter(prefix + "ok"),
            counter(prefix + "denied"),
            counter(prefix + "error"),
            counter(prefix + "disabled"),
            counter(prefix + "failure_mode_allowed"),
            counter(prefix + "cx_closed")));
  }

  private dev.bowline.proxy.stats.Counter counter(String name) {
    return stats.counter(name, "envoy_" + name.replace('.', '_'), Map.of());
  }
}
