package dev.bowline.cli.mesh;

import dev.bowline.agent.AgentConfig;
import dev.bowline.agent.CaTrust;
import dev.bowline.agent.WorkloadAgent;
import dev.bowline.ca.CaConfig;
import dev.bowline.ca.CaServer;
import dev.bowline.ca.CaServerConfig;
import dev.bowline.ca.CertificateAuthority;
import dev.bowline.ca.LocalTokenIssuer;
import dev.bowline.ca.RootSource;
import dev.bowline.ca.WorkloadIdentity;
import dev.bowline.cli.mesh.MeshPlan.Instance;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Workload identities for a local mesh: the CA (Istio's CSR API on :15012 of the control plane's
 * address, its root kept in {@code <run dir>/ca}, so identities survive a restart) and one agent
 * per instance, which gets {@code spiffe://<trustDomain>/ns/<ns>/sa/<sa>} (MeshConfig {@code
 * trustDomain} of the config directories' {@code mesh.yaml}, {@code cluster.local} by default) with
 * a token the runner vouches for and serves it, with the trust bundle, over SDS on {@code <instance
 * dir>/sds.sock}: the socket the sidecar's {@code sds-grpc} cluster names. CA and agents live in
 * the runner's JVM (decision 0011): the token issuer's secret never leaves the process.
 */
final class MeshSecurity implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshSecurity.class.getName());

  /** The name of the SDS socket in each instance directory. */
  static final String SDS_SOCKET = "sds.sock";

  private final CaServer server;
  private final String trustDomain;
  private final Map<String, WorkloadAgent> agents = new LinkedHashMap<>();

  /**
   * The CA's and agents' per-event INFO lines (one per certificate) would interleave with the
   * runner's table on the terminal: the runner shows their warnings only. Held here, because JUL
   * keeps loggers weakly.
   */
  private final List<java.util.logging.Logger> quieted = new ArrayList<>();

  private MeshSecurity(CaServer server, String trustDomain) {
    this.server = server;
    this.trustDomain = trustDomain;
  }

  private static List<java.util.logging.Logger> quiet() {
    List<java.util.logging.Logger> out = new ArrayList<>();
    for (String name : List.of("dev.bowline.ca", "dev.bowline.agent")) {
      java.util.logging.Logger l = java.util.logging.Logger.getLogger(name);
      l.setLevel(java.util.logging.Level.WARNING);
      out.add(l);
    }
    // grpc-netty asks Unix-socket channels for SO_KEEPALIVE, which they do not have
    java.util.logging.Logger b =
        java.util.logging.Logger.getLogger("io.netty.bootstrap.AbstractBootstrap");
    b.setLevel(java.util.logging.Level.SEVERE);
    out.add(b);
    return out;
  }

  /** Starts the CA on {@code address:caPort} with its root in {@code caDir}. */
  static MeshSecurity start(
      Path caDir, String address, int caPort, LocalTokenIssuer tokens, SecureRandom random) {
    return start(caDir, address, caPort, tokens, random, CaConfig.DEFAULT_TRUST_DOMAIN);
  }

  /**
   * Starts the CA on {@code address:caPort} with its root in {@code caDir}, issuing identities in
   * {@code trustDomain} (MeshConfig {@code trustDomain}).
   */
  static MeshSecurity start(
      Path caDir,
      String address,
      int caPort,
      LocalTokenIssuer tokens,
      SecureRandom random,
      String trustDomain) {
    List<java.util.logging.Logger> quieted = quiet();
    CertificateAuthority ca =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(caDir)).withTrustDomain(trustDomain),
            Clock.systemUTC(),
            random);
    CaServer server = CaServer.start(ca, CaServerConfig.defaults(address).withPort(caPort), tokens);
    LOG.log(Level.DEBUG, "event=mesh_ca_started address={0} port={1}", address, server.port());
    MeshSecurity s = new MeshSecurity(server, trustDomain);
    s.quieted.addAll(quieted);
    return s;
  }

  /** The CA's port. */
  int port() {
    return server.port();
  }

  /**
   * Starts the agent of {@code i}: its certificate arrives in the background; the sidecar is ready
   * once it has it (its SDS secrets warm).
   */
  Path startAgent(
      Instance i, Path instanceDir, String caHost, Path rootCert, LocalTokenIssuer tokens) {
    return startAgent(
        i.name(),
        i.workload().namespace(),
        i.workload().serviceAccount(),
        instanceDir,
        caHost,
        rootCert,
        tokens);
  }

  /**
   * Starts the agent of a gateway: as pilot-agent in a gateway pod, it gives the gateway its
   * workload certificate, so it can talk mutual TLS to the sidecars behind it.
   */
  Path startAgent(
      MeshSpec.Gateway g, Path dir, String caHost, Path rootCert, LocalTokenIssuer tokens) {
    return startAgent(
        g.instanceName(), g.namespace(), g.serviceAccount(), dir, caHost, rootCert, tokens);
  }

  /** Starts the agent of workload {@code name.ns} running as service account {@code sa}. */
  Path startAgent(
      String name,
      String ns,
      String sa,
      Path instanceDir,
      String caHost,
      Path rootCert,
      LocalTokenIssuer tokens) {
    WorkloadIdentity id = new WorkloadIdentity(trustDomain, ns, sa);
    Path socket = instanceDir.resolve(SDS_SOCKET);
    WorkloadAgent agent =
        WorkloadAgent.start(
            AgentConfig.defaults(
                id, caHost, port(), new CaTrust.PemFile(rootCert), tokens.issue(ns, sa)),
            socket,
            null,
            List.of());
    agents.put(name + "." + ns, agent);
    return socket;
  }

  @Override
  public void close() {
    List<RuntimeException> errors = new ArrayList<>();
    for (WorkloadAgent a : agents.values()) {
      try {
        a.close();
      } catch (RuntimeException e) {
        errors.add(e);
      }
    }
    agents.clear();
    server.close();
    errors.forEach(e -> LOG.log(Level.DEBUG, "event=agent_close_failed error={0}", e.getMessage()));
  }
}
