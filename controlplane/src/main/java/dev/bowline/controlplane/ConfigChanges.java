package dev.bowline.controlplane;

import dev.bowline.api.Kind;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.model.DestinationRule;
import dev.bowline.api.model.VirtualService;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.push.PushScope;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Which proxies and types a config change concerns, as istiod's {@code pushTypeFor} and {@code
 * SidecarScope.DependsOnConfig}: when only VirtualServices and DestinationRules changed, the push
 * is limited to proxies that see one of their hosts (before or after the change), with LDS and RDS
 * for a VirtualService and CDS, EDS, LDS, RDS and SDS for a DestinationRule. Any other kind, or a
 * VirtualService without hosts (a delegate), pushes everything.
 */
final class ConfigChanges {
  private ConfigChanges() {}

  /** The scope of going from {@code before} to {@code after}; null: everything. */
  static @Nullable PushScope scope(ConfigSnapshot before, ConfigSnapshot after) {
    Set<ResourceKey> keys = new TreeSet<>(before.resources().keySet());
    keys.addAll(after.resources().keySet());
    Set<String> hosts = new HashSet<>();
    Set<String> types = new HashSet<>();
    for (ResourceKey k : keys) {
      Resource<?> a = before.resources().get(k);
      Resource<?> b = after.resources().get(k);
      if (Objects.equals(a, b)) {
        continue;
      }
      if (k.kind() == Kind.VIRTUAL_SERVICE) {
        types.add(TypeUrls.LISTENER);
        types.add(TypeUrls.ROUTE);
      } else if (k.kind() == Kind.DESTINATION_RULE) {
        types.add(TypeUrls.CLUSTER);
        types.add(TypeUrls.ENDPOINT);
        types.add(TypeUrls.LISTENER);
        types.add(TypeUrls.ROUTE);
        types.add(TypeUrls.SECRET); // credentialName secrets
      } else {
        return null;
      }
      for (Resource<?> r : new Resource<?>[] {a, b}) {
        if (r == null) {
          continue;
        }
        if (r.spec() instanceof VirtualService vs) {
          if (vs.hosts() == null || vs.hosts().isEmpty()) {
            return null;
          }
          hosts.addAll(vs.hosts());
        } else if (r.spec() instanceof DestinationRule dr) {
          if (dr.host() == null || dr.host().isEmpty()) {
            return null;
          }
          hosts.add(dr.host());
        }
      }
    }
    return new PushScope(hosts, types);
  }
}
