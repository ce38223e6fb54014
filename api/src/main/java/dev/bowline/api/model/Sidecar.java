package dev.bowline.api.model;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** networking.istio.io Sidecar: what a workload's proxy listens for and can reach. */
public record Sidecar(
    @Nullable WorkloadSelector workloadSelector,
    List<IstioIngressListener> ingress,
    List<IstioEgressListener> egress,
    @Nullable ConnectionPoolSettings inboundConnectionPool,
    @Nullable OutboundTrafficPolicy outboundTrafficPolicy)
    implements Spec {
  public Sidecar {
    ingress = Freeze.list(ingress);
    egress = Freeze.list(egress);
  }

  /** An inbound listener. */
  public record IstioIngressListener(
      @Nullable Port port,
      @Nullable String bind,
      @Nullable CaptureMode captureMode,
      @Nullable String defaultEndpoint,
      @Nullable ServerTLSSettings tls,
      @Nullable ConnectionPoolSettings connectionPool) {}

  /** An outbound listener and the hosts (`namespace/host`) reachable through it. */
  public record IstioEgressListener(
      @Nullable Port port,
      @Nullable String bind,
      @Nullable CaptureMode captureMode,
      List<String> hosts) {
    public IstioEgressListener {
      hosts = Freeze.list(hosts);
    }
  }

  /** How traffic reaches a listener. */
  public enum CaptureMode {
    DEFAULT,
    IPTABLES,
    NONE
  }

  /** What happens to traffic to hosts outside the registry. */
  public record OutboundTrafficPolicy(@Nullable Mode mode, @Nullable Destination egressProxy) {

    /** ALLOW_ANY passes unknown destinations through; REGISTRY_ONLY blocks them. */
    public enum Mode {
      REGISTRY_ONLY,
      ALLOW_ANY
    }
  }
}
