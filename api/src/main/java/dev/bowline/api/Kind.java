package dev.bowline.api;

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
import dev.bowline.api.model.Spec;
import dev.bowline.api.model.Telemetry;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.model.WasmPlugin;
import dev.bowline.api.model.WorkloadEntry;
import dev.bowline.api.model.WorkloadGroup;
import java.util.List;
import java.util.Optional;

/** The Istio kinds Bowline reads, with the API versions Istio serves for each. */
public enum Kind {
  VIRTUAL_SERVICE(
      "networking.istio.io", "VirtualService", VirtualService.class, "v1alpha3", "v1beta1", "v1"),
  DESTINATION_RULE(
      "networking.istio.io", "DestinationRule", DestinationRule.class, "v1alpha3", "v1beta1", "v1"),
  GATEWAY("networking.istio.io", "Gateway", Gateway.class, "v1alpha3", "v1beta1", "v1"),
  SERVICE_ENTRY(
      "networking.istio.io", "ServiceEntry", ServiceEntry.class, "v1alpha3", "v1beta1", "v1"),
  WORKLOAD_ENTRY(
      "networking.istio.io", "WorkloadEntry", WorkloadEntry.class, "v1alpha3", "v1beta1", "v1"),
  WORKLOAD_GROUP(
      "networking.istio.io", "WorkloadGroup", WorkloadGroup.class, "v1alpha3", "v1beta1", "v1"),
  SIDECAR("networking.istio.io", "Sidecar", Sidecar.class, "v1alpha3", "v1beta1", "v1"),
  ENVOY_FILTER("networking.istio.io", "EnvoyFilter", EnvoyFilter.class, "v1alpha3"),
  PROXY_CONFIG("networking.istio.io", "ProxyConfig", ProxyConfig.class, "v1beta1"),
  PEER_AUTHENTICATION(
      "security.istio.io", "PeerAuthentication", PeerAuthentication.class, "v1beta1", "v1"),
  REQUEST_AUTHENTICATION(
      "security.istio.io", "RequestAuthentication", RequestAuthentication.class, "v1beta1", "v1"),
  AUTHORIZATION_POLICY(
      "security.istio.io", "AuthorizationPolicy", AuthorizationPolicy.class, "v1beta1", "v1"),
  TELEMETRY("telemetry.istio.io", "Telemetry", Telemetry.class, "v1alpha1", "v1"),
  WASM_PLUGIN("extensions.istio.io", "WasmPlugin", WasmPlugin.class, "v1alpha1"),
  /**
   * Kubernetes' core {@code v1} Secret: the certificates a Gateway's {@code credentialName} names.
   */
  SECRET("", "Secret", KubernetesSecret.class, "v1");

  private final String group;
  private final String kindName;
  private final Class<? extends Spec> specClass;
  private final List<String> versions;

  Kind(String group, String kindName, Class<? extends Spec> specClass, String... versions) {
    this.group = group;
    this.kindName = kindName;
    this.specClass = specClass;
    this.versions = List.of(versions);
  }

  /** The API group, e.g. {@code networking.istio.io}. */
  public String group() {
    return group;
  }

  /** The name in YAML's {@code kind:} field, e.g. {@code VirtualService}. */
  public String kindName() {
    return kindName;
  }

  /** The spec record of this kind. */
  public Class<? extends Spec> specClass() {
    return specClass;
  }

  /** Versions served, oldest first. */
  public List<String> versions() {
    return versions;
  }

  /** Every {@code apiVersion} accepted for this kind, e.g. {@code networking.istio.io/v1}. */
  public List<String> apiVersions() {
    return versions.stream().map(v -> group.isEmpty() ? v : group + "/" + v).toList();
  }

  /** The newest {@code apiVersion}, used when Bowline writes a resource itself. */
  public String preferredApiVersion() {
    return apiVersions().getLast();
  }

  /** The kind named {@code kindName} in YAML. */
  public static Optional<Kind> byName(String kindName) {
    for (Kind k : values()) {
      if (k.kindName.equals(kindName)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /** The kind of a spec record. */
  public static Kind of(Spec spec) {
    for (Kind k : values()) {
      if (k.specClass.isInstance(spec)) {
        return k;
      }
    }
    throw new IllegalArgumentException("no kind for " + spec.getClass());
  }

  @Override
  public String toString() {
    return kindName;
  }
}
