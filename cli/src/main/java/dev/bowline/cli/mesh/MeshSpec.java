package dev.bowline.cli.mesh;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A parsed, valid {@code mesh.yaml}: the workloads to run and the Istio config directories.
 *
 * @param source the file it was read from (relative paths in it resolve against its folder)
 * @param configDirs Istio config directories for the control plane, resolved
 * @param workloads the workloads, in file order
 * @param gateways the gateway proxies (ingress), in file order
 */
public record MeshSpec(
    Path source, List<Path> configDirs, List<Workload> workloads, List<Gateway> gateways) {
  public MeshSpec {
    Objects.requireNonNull(source, "source");
    configDirs = List.copyOf(configDirs);
    workloads = List.copyOf(workloads);
    gateways = List.copyOf(gateways);
  }

  /** A mesh without gateways. */
  public MeshSpec(Path source, List<Path> configDirs, List<Workload> workloads) {
    this(source, configDirs, workloads, List.of());
  }

  /**
   * A gateway proxy (Istio's {@code istio-ingressgateway}): a {@code bowline proxy} with a {@code
   * router~} node id and no app, configured from the {@code Gateway} resources whose selector
   * matches its labels, registered as a service so that Gateway ports map to its listening ports.
   *
   * @param name its name (and its service's), e.g. {@code istio-ingressgateway}
   * @param namespace its namespace, e.g. {@code istio-system}
   * @param labels its labels ({@code app} is its name unless given), matched by Gateway selectors
   * @param address the loopback address it listens on
   * @param ports its service ports: {@code number} is the port Gateway servers name (80), {@code
   *     targetPort} the one it listens on (8080; 0: the same)
   */
  public record Gateway(
      String name, String namespace, Map<String, String> labels, String address, List<Port> ports) {
    public Gateway {
      labels = Map.copyOf(labels);
      ports = List.copyOf(ports);
    }

    /** Its instance name in the registry and its node id: {@code <name>-0}. */
    public String instanceName() {
      return name + "-0";
    }

    /** Its service account, as Istio's gateway charts name it: {@code <name>-service-account}. */
    public String serviceAccount() {
      return name + "-service-account";
    }

    /** Istio's gateway node id: {@code router~IP~NAME.NS~NS.svc.cluster.local}. */
    public String nodeId() {
      return "router~"
          + address
          + "~"
          + instanceName()
          + "."
          + namespace
          + "~"
          + namespace
          + ".svc.cluster.local";
    }

    /** The port it listens on for {@code p}. */
    public static int listenPort(Port p) {
      return p.targetPort() == 0 ? p.number() : p.targetPort();
    }
  }

  /** The folder relative paths resolve against. */
  public Path baseDir() {
    Path parent = source.toAbsolutePath().getParent();
    return parent == null ? Path.of(".").toAbsolutePath() : parent;
  }

  /**
   * One workload: a set of identical instances (replicas) behind the service named by its {@code
   * app} label.
   *
   * @param name unique in its namespace; instances are {@code <name>-<i>}
   * @param namespace its namespace
   * @param labels its labels; {@code app} names its service, {@code version} its subset
   * @param ports its service ports, Istio-named ({@code http-forecast}, {@code grpc-...})
   * @param replicas how many instances
   * @param locality Istio's {@code region/zone/subzone}, or empty
   * @param serviceAccount its service account
   * @param run what each instance runs
   * @param env extra environment for each instance
   * @param healthPath HTTP path on the first port that answers 2xx when ready; empty: the first
   *     port accepting connections means ready
   */
  public record Workload(
      String name,
      String namespace,
      Map<String, String> labels,
      List<Port> ports,
      int replicas,
      String locality,
      String serviceAccount,
      Run run,
      Map<String, String> env,
      String healthPath) {
    public Workload {
      labels = Map.copyOf(labels);
      ports = List.copyOf(ports);
      env = Map.copyOf(env);
    }

    /** The service this workload backs: its {@code app} label. */
    public String app() {
      return labels.getOrDefault("app", name);
    }

    /** Its {@code version} label, or empty. */
    public String version() {
      return labels.getOrDefault("version", "");
    }

    /** The first port whose name is {@code prefix} or starts with {@code prefix-}, if any. */
    public java.util.Optional<Port> port(String prefix) {
      return ports.stream()
          .filter(p -> p.name().equals(prefix) || p.name().startsWith(prefix + "-"))
          .findFirst();
    }
  }

  /**
   * A service port.
   *
   * @param name Istio-style name, {@code <protocol>[-<suffix>]}
   * @param number the service port clients use
   * @param targetPort the port the app listens on when a sidecar sits in front of it (the sidecar
   *     takes {@code number}); 0 when not given
   */
  public record Port(String name, int number, int targetPort) {}

  /** What an instance runs. */
  public sealed interface Run permits Role, Command {}

  /**
   * A role of the built-in Weather Forecast app ({@code samples/weather}), in its own JVM.
   *
   * @param role frontend, forecast, advertisement or recommendation
   */
  public record Role(String role) implements Run {}

  /**
   * Any program. {@code ${VAR}} in an argument is replaced by the instance's environment (for
   * example {@code ${BOWLINE_ADDRESS}}, {@code ${BOWLINE_PORT_HTTP_WEB}}).
   *
   * @param argv the program and its arguments
   */
  public record Command(List<String> argv) implements Run {
    public Command {
      argv = List.copyOf(argv);
    }
  }
}
