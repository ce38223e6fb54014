package dev.bowline.api.validation;

import dev.bowline.api.Resource;
import dev.bowline.api.Validation;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.AuthorizationPolicy;
import dev.bowline.api.model.DestinationRule;
import dev.bowline.api.model.EnvoyFilter;
import dev.bowline.api.model.Gateway;
import dev.bowline.api.model.KubernetesSecret;
import dev.bowline.api.model.PeerAuthentication;
import dev.bowline.api.model.ProxyConfig;
import dev.bowline.api.model.RequestAuthentication;
import dev.bowline.api.model.ServiceEntry;
import dev.bowline.api.model.Sidecar;
import dev.bowline.api.model.Telemetry;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.model.WasmPlugin;
import dev.bowline.api.model.WorkloadEntry;
import dev.bowline.api.model.WorkloadGroup;

/**
 * Validates one resource by Istio's rules. Every finding is reported (never only the first), each
 * as {@code Kind namespace/name: spec.path: what is wrong}. Stateless and thread-safe.
 */
public final class Validator {

  /** A validator with Istio's current rules. */
  public Validator() {}

  /** Errors and warnings of {@code resource}. */
  public Validation validate(Resource<?> resource) {
    Report r = new Report(resource.key().toString());
    Checks.labels(r, "metadata.labels", resource.labels());
    switch (resource.spec()) {
      case VirtualService vs -> VirtualServiceRules.check(r, vs);
      case DestinationRule dr -> TrafficPolicyRules.checkDestinationRule(r, dr);
      case Gateway gw -> GatewayRules.check(r, gw);
      case ServiceEntry se -> WorkloadRules.checkServiceEntry(r, se);
      case WorkloadEntry we -> WorkloadRules.checkWorkloadEntry(r, "spec", we, false);
      case WorkloadGroup wg -> WorkloadRules.checkWorkloadGroup(r, wg);
      case Sidecar sc -> SidecarRules.check(r, sc);
      case EnvoyFilter ef -> EnvoyFilterRules.check(r, ef);
      case ProxyConfig pc -> ExtensionRules.checkProxyConfig(r, pc);
      case PeerAuthentication pa -> SecurityRules.checkPeerAuthentication(r, pa);
      case RequestAuthentication ra -> SecurityRules.checkRequestAuthentication(r, ra);
      case AuthorizationPolicy ap -> SecurityRules.checkAuthorizationPolicy(r, ap);
      case Telemetry t -> ExtensionRules.checkTelemetry(r, t);
      case WasmPlugin w -> ExtensionRules.checkWasmPlugin(r, w);
      case KubernetesSecret ks -> SecretRules.check(r, ks);
    }
    return r.build();
  }

  /**
   * Errors and warnings of a MeshConfig; messages name it {@code MeshConfig <source>}, paths start
   * at its root (e.g. {@code defaultConfig.drainDuration}).
   */
  public Validation validate(MeshConfig mesh, String source) {
    Report r = new Report("MeshConfig " + source);
    MeshConfigRules.check(r, mesh);
    return r.build();
  }
}
