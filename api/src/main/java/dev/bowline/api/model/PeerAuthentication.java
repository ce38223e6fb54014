package dev.bowline.api.model;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/** security.istio.io PeerAuthentication: which mutual TLS a workload accepts. */
public record PeerAuthentication(
    @Nullable LabelSelector selector,
    @Nullable MutualTLS mtls,
    Map<String, MutualTLS> portLevelMtls)
    implements Spec {
  public PeerAuthentication {
    portLevelMtls = Freeze.map(portLevelMtls);
  }

  /** The mTLS mode. */
  public record MutualTLS(@Nullable Mode mode) {

    /** UNSET inherits from the parent scope. */
    public enum Mode {
      UNSET,
      DISABLE,
      PERMISSIVE,
      STRICT
    }
  }
}
