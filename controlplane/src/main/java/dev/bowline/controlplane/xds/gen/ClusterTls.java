package dev.bowline.controlplane.xds.gen;

import dev.bowline.controlplane.model.ClientTls;
import dev.bowline.controlplane.model.PushContext;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.Service;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The TLS of an outbound cluster, as istiod decides it ({@code cluster_tls.go}): the
 * DestinationRule's {@code tls} (port-level and subset settings already merged) when it sets one —
 * DISABLE plaintext, SIMPLE/MUTUAL from the rule, ISTIO_MUTUAL with the sidecar certificate —;
 * without one, auto mTLS (MeshConfig {@code enableAutoMtls}, on by default): {@code
 * transport_socket_matches} giving ISTIO_MUTUAL to endpoints labelled {@code tlsMode: istio} and
 * plaintext to the others; with it off, plaintext.
 */
final class ClusterTls {
  private ClusterTls() {}

  /** The destination a cluster goes to. */
  record Target(PushContext push, Service service, int port, String subset) {}

  static void apply(Cluster.Builder c, @Nullable ClientTls tls, Target t) {
    if (tls == null) {
      if (!Boolean.FALSE.equals(t.push().mesh().enableAutoMtls())) {
        Security.autoMtls(c, Security.istioMutual(serviceAccounts(t), defaultSni(t)));
        metadataExchange(c);
      }
      return;
    }
    if (tls.mode() == ClientTls.Mode.ISTIO_MUTUAL) {
      metadataExchange(c);
    }
    switch (tls.mode()) {
      case DISABLE -> {}
      case ISTIO_MUTUAL ->
          c.setTransportSocket(
              Security.socket(
                  Security.istioMutual(
                      tls.subjectAltNames().isEmpty()
                          ? serviceAccounts(t)
                          : new TreeSet<>(tls.subjectAltNames()),
                      tls.sni().isEmpty() ? defaultSni(t) : tls.sni())));
      case SIMPLE, MUTUAL ->
          c.setTransportSocket(Security.socket(Security.fromRule(tls, tls.sni())));
    }
  }

  /**
   * istiod's {@code TCPClusterMx} on a cluster that may speak Istio mTLS: the TCP metadata exchange
   * runs on its raw (TCP proxied) connections when ALPN {@code istio-peer-exchange} is negotiated.
   */
  private static void metadataExchange(Cluster.Builder c) {
    c.addFilters(dev.bowline.controlplane.xds.gen.telemetry.TelemetryFilters.tcpClusterMx());
  }

  /** Istio's SNI for mesh traffic: {@code outbound_.<port>_.<subset>_.<host>}. */
  static String defaultSni(Target t) {
    return "outbound_." + t.port() + "_." + t.subset() + "_." + t.service().hostname();
  }

  /**
   * The SPIFFE ids of the service's workloads: who may answer for it, in the mesh's trust domain
   * and each of its {@code trustDomainAliases} (istiod's {@code ExpandWithTrustDomains}).
   */
  static Set<String> serviceAccounts(Target t) {
    Set<String> out = new TreeSet<>();
    List<String> domains = t.push().trustDomains();
    for (Endpoint e : t.push().registry().endpoints(t.service().hostname(), t.port())) {
      if (!e.serviceAccount().isEmpty()) {
        for (String td : domains) {
          out.add(e.spiffeId(td));
        }
      }
    }
    return out;
  }
}
