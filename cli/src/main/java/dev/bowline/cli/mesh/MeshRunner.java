package dev.bowline.cli.mesh;

import dev.bowline.cli.mesh.MeshPlan.Instance;
import dev.bowline.cli.mesh.MeshSpec.Port;
import dev.bowline.cli.mesh.MeshSpec.Workload;
import dev.bowline.cli.mesh.Supervisor.Child;
import dev.bowline.cli.mesh.Supervisor.Probe;
import dev.bowline.cli.mesh.Supervisor.Readiness;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Runs a mesh: plan addresses, check ports, write the registry file and the sidecar bootstraps,
 * then, in order, (1) start the control plane, (2) start one sidecar per instance, (3) start the
 * apps, wait for all of them, and print the table. Steps (1) and (2) run when {@link Capabilities}
 * says their commands are built; until then the apps run unmeshed and call each other directly.
 */
public final class MeshRunner implements AutoCloseable {
  /** Exit code of a {@code bowline} subcommand that is not built yet (PlannedCommands). */
  static final int NOT_BUILT = 3;

  private static final Pattern VAR = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  /**
   * How to run.
   *
   * @param firstAddress the first instance's loopback address; the others follow
   * @param runDir where the registry file, bootstraps and logs go
   * @param weatherJar the Weather app's runnable jar, for workloads with a role
   * @param configDirs Istio config directories for the control plane
   * @param readyTimeout how long an instance may take to become ready
   * @param grace how long processes get between SIGTERM and SIGKILL on stop
   * @param controlPlaneAddress where the control plane listens
   * @param xdsPort its ADS port
   * @param monitoringPort its debug/metrics port ({@code /ready})
   */
  public record Options(
      String firstAddress,
      Path runDir,
      Path weatherJar,
      List<Path> configDirs,
      Duration readyTimeout,
      Duration grace,
      String controlPlaneAddress,
      int xdsPort,
      int monitoringPort) {
    public Options {
      configDirs = List.copyOf(configDirs);
    }
  }

  /** The state of one instance for the table. */
  record Row(Instance instance, @Nullable Child app, String health) {}

  private final MeshSpec spec;
  private final Options options;
  private final Capabilities caps;

  /**
   * A sidecar's (and a gateway's) JVM: the options of every proxy process, {@link
   * BowlineJvm#PROXY_FLAGS} plus C1 only: the local mesh carries light traffic and many proxies
   * share one machine, so memory and start-up CPU matter more than peak throughput (0030).
   */
  static final List<String> SIDECAR_FLAGS =
      java.util.stream.Stream.concat(
              BowlineJvm.PROXY_FLAGS.stream(),
              java.util.stream.Stream.of("-XX:TieredStopAtLevel=1"))
          .toList();

  /**
   * The control plane's JVM: serial collector and C1 only, as the sidecars; with its AppCDS archive
   * it is ready in ~1 s instead of 3-6 s (decision 0014).
   */
  /**
   * A local proxy's drain on SIGTERM: short, so that it exits (and writes its AppCDS archive) well
   * within the runner's grace period.
   */
  static final String PROXY_DRAIN_SECONDS = "1";

  static final List<String> CONTROL_PLANE_FLAGS =
      List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final BowlineJvm jvm;
  private final PrintWriter out;
  private final Supervisor supervisor;
  private final MeshPlan plan;
  private final java.util.Set<String> unhealthy =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final List<URI> ingress = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile @Nullable URI dashboard;

  /** The AppCDS archives being written after this run's first start (decision 0014). */
  private volatile ClassDataSharing.@Nullable Dumps cdsDumps;

  /** Istio's CA port, on the control plane's address (as istiod serves it). */
  static final int CA_PORT = 15012;

  private final dev.bowline.ca.LocalTokenIssuer tokens =
      new dev.bowline.ca.LocalTokenIssuer(new java.security.SecureRandom());
  private @Nullable MeshSecurity security;

  /** The MeshConfig of the config directories' mesh.yaml, read once at start (decision 0021). */
  private dev.bowline.api.mesh.MeshConfig mesh = dev.bowline.api.mesh.MeshConfig.defaults();

  /**
   * @throws IllegalArgumentException if the addresses do not fit ({@link MeshPlan#assign})
   */
  public MeshRunner(
      MeshSpec spec, Options options, Capabilities caps, BowlineJvm jvm, PrintWriter out) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.options = Objects.requireNonNull(options, "options");
    this.caps = Objects.requireNonNull(caps, "caps");
    this.jvm = Objects.requireNonNull(jvm, "jvm");
    this.out = Objects.requireNonNull(out, "out");
    this.supervisor = new Supervisor(out, options.grace());
    this.plan = MeshPlan.assign(spec, options.firstAddress(), caps.sidecars());
  }

  /** The plan: every instance and its address. */
  public MeshPlan plan() {
    return plan;
  }

  /** The supervisor of every process started. */
  public Supervisor supervisor() {
    return supervisor;
  }

  /**
   * Starts the mesh. Returns 0 when at least one app is ready (the others are reported), 1 when
   * nothing could run (ports in use, no weather jar, control plane failed, no app ready).
   */
  public int start() throws IOException, InterruptedException {
    List<String> problems = preflight();
    if (!problems.isEmpty()) {
      problems.forEach(p -> say("bowline up: " + p));
      return 1;
    }
    Files.createDirectories(options.runDir());
    Path registry = registryFile();
    writeRegistry();
    if (plan.meshed() && caps.controlPlaneConfigDir()) {
      Files.createDirectories(MeshTracing.dir(options.runDir()));
      Files.writeString(
          MeshTracing.dir(options.runDir()).resolve("mesh.yaml"), MeshTracing.meshYaml());
    }
    // Identities first (meshed): the CA, then one agent per instance serving SDS on its socket.
    try {
      loadMeshConfig();
    } catch (IllegalArgumentException e) {
      say("bowline up: " + e.getMessage());
      return 1;
    }
    if (caps.sidecars()) {
      String trustDomain =
          mesh.trustDomain() == null || mesh.trustDomain().isEmpty()
              ? dev.bowline.ca.CaConfig.DEFAULT_TRUST_DOMAIN
              : mesh.trustDomain();
      try {
        security =
            MeshSecurity.start(
                options.runDir().resolve("ca"),
                options.controlPlaneAddress(),
                CA_PORT,
                tokens,
                new java.security.SecureRandom(),
                trustDomain);
      } catch (RuntimeException e) {
        say("bowline up: the CA did not start: " + e.getMessage());
        return 1;
      }
    }
    for (Instance i : plan.instances()) {
      Path dir = instanceDir(i);
      Files.createDirectories(dir);
      Path sds = null;
      MeshSecurity sec = security;
      if (sec != null) {
        sds =
            sec.startAgent(
                i,
                dir,
                options.controlPlaneAddress(),
                options.runDir().resolve("ca").resolve("root-cert.pem"),
                tokens);
      }
      Files.writeString(
          dir.resolve("bootstrap.yaml"),
          SidecarBootstrap.of(
              plan, i, options.controlPlaneAddress(), options.xdsPort(), sds, meshMetadata()));
    }
    if (security != null) {
      say(
          "security: CA "
              + options.controlPlaneAddress()
              + ":"
              + CA_PORT
              + " (root in "
              + options.runDir().resolve("ca")
              + "), one agent per instance; sidecars talk mutual TLS (auto mTLS)");
    }
    say(
        "bowline up: "
            + plan.instances().size()
            + " instances of "
            + spec.workloads().size()
            + " workloads from "
            + spec.source()
            + "; registry, bootstraps and logs in "
            + options.runDir());

    // Step 1: the control plane, over the registry file. Step 2, started at the same time (a
    // proxy retries its xDS stream until the control plane listens, and the JVMs' start-up
    // overlaps): one sidecar per instance and the gateways (waited for last). Step 3: the apps.
    Child controlPlane = caps.controlPlane() ? startControlPlane(registry) : null;
    Map<MeshSpec.Gateway, Child> gateways = new LinkedHashMap<>();
    if (caps.sidecars()) {
      gateways.putAll(startGateways());
    }
    Map<Instance, Child> sidecars = caps.sidecars() ? startSidecars() : Map.of();
    if (controlPlane != null && !awaitControlPlane(controlPlane)) {
      return 1;
    }
    Map<Instance, String> sidecarFailures = new LinkedHashMap<>();
    if (caps.sidecars()) {
      sidecarFailures.putAll(awaitSidecars(sidecars));
    } else {
      say(
          "mesh: off, "
              + caps.missing()
              + "; the apps run unmeshed and call each other directly"
              + (configDirs().isEmpty()
                  ? ""
                  : " (Istio config in "
                      + configDirs().stream().map(this::shown).collect(Collectors.joining(", "))
                      + " is not applied)"));
    }
    List<Row> rows = startApps(sidecarFailures);
    printTable(rows);
    awaitGateways(gateways);
    if (caps.controlPlane()) {
      // Beside the page's URL: the control plane's live service graph (decision 0020).
      dashboard = dashboardUrl(options);
      say("dashboard: " + dashboard + " (live service graph; bowline dashboard opens it)");
    }
    long ready = rows.stream().filter(r -> r.health().startsWith("ready")).count();
    say(
        "bowline up: "
            + ready
            + " of "
            + rows.size()
            + " instances ready; Ctrl-C stops everything");
    // The JVMs that create AppCDS archives write them now that they serve (decision 0014).
    cdsDumps = ClassDataSharing.dumpCreators(supervisor.children(), jvm.java());
    if (ready == 0 && plan.meshed() && !sidecarFailures.isEmpty()) {
      say("bowline up: no sidecar became ready; --no-mesh runs the apps without them");
    }
    return ready > 0 ? 0 : 1;
  }

  /** The control plane's dashboard, once it runs ({@code http://127.0.0.1:15014/dashboard/}). */
  public java.util.Optional<URI> dashboardUrl() {
    return java.util.Optional.ofNullable(dashboard);
  }

  static URI dashboardUrl(Options options) {
    return URI.create(
        "http://" + options.controlPlaneAddress() + ":" + options.monitoringPort() + "/dashboard/");
  }

  /**
   * The URLs of the gateways' HTTP ports that became ready, e.g. {@code http://127.0.0.1:8080/}.
   */
  public List<URI> ingressUrls() {
    return List.copyOf(ingress);
  }

  private Map<MeshSpec.Gateway, Child> startGateways() throws IOException {
    Map<MeshSpec.Gateway, Child> started = new LinkedHashMap<>();
    for (MeshSpec.Gateway g : spec.gateways()) {
      Path sds = null;
      MeshSecurity sec = security;
      if (sec != null) {
        Path dir = IngressGateways.dir(options.runDir(), g);
        Files.createDirectories(dir);
        sds =
            sec.startAgent(
                g,
                dir,
                options.controlPlaneAddress(),
                options.runDir().resolve("ca").resolve("root-cert.pem"),
                tokens);
      }
      IngressGateways.writeBootstrap(
          options.runDir(), g, options.controlPlaneAddress(), options.xdsPort(), sds);
      started.put(g, supervisor.start(IngressGateways.spec(options.runDir(), g, jvm)));
    }
    return started;
  }

  private void awaitGateways(Map<MeshSpec.Gateway, Child> started) throws InterruptedException {
    for (Map.Entry<MeshSpec.Gateway, Child> e : started.entrySet()) {
      MeshSpec.Gateway g = e.getKey();
      Readiness r = supervisor.awaitReady(e.getValue(), options.readyTimeout());
      if (r instanceof Readiness.Ready) {
        for (URI url : IngressGateways.urls(g)) {
          ingress.add(url);
          say("ingress: " + url + " (gateway " + g.namespace() + "/" + g.name() + ")");
        }
      } else {
        say(
            "bowline up: gateway "
                + g.namespace()
                + "/"
                + g.name()
                + ": "
                + describe(r, e.getValue().spec().log())
                + "; does a Gateway select "
                + g.labels()
                + "?");
      }
    }
  }

  private Path registryFile() {
    return options.runDir().resolve("registry.yaml");
  }

  /**
   * Writes the registry file whole (a temp file moved over the old one, so the control plane's
   * watcher never reads half a file), with the instances that died or failed marked UNHEALTHY.
   */
  private synchronized void writeRegistry() throws IOException {
    Path tmp = options.runDir().resolve(".registry.yaml.tmp");
    Files.writeString(
        tmp,
        RegistryYaml.of(
            plan,
            java.util.Set.copyOf(unhealthy),
            caps.controlPlaneConfigDir() ? options.controlPlaneAddress() : null));
    Files.move(
        tmp,
        registryFile(),
        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** An app died or never got ready: its endpoint leaves the mesh, the others stay. */
  private void markUnhealthy(Instance i) {
    if (supervisor.stopping() || !unhealthy.add(i.name())) {
      return;
    }
    try {
      writeRegistry();
    } catch (IOException e) {
      say("bowline up: cannot update " + registryFile() + ": " + e.getMessage());
    }
  }

  private List<String> preflight() {
    List<String> problems = new ArrayList<>();
    boolean roles = spec.workloads().stream().anyMatch(w -> w.run() instanceof MeshSpec.Role);
    if (roles && !Files.isRegularFile(options.weatherJar())) {
      problems.add(
          "the Weather app jar "
              + options.weatherJar()
              + " is missing; build it with ./mvnw -q -pl samples/weather package -DskipTests"
              + " (or pass --weather-jar)");
    }
    for (Path d : options.configDirs()) {
      if (!Files.isDirectory(d)) {
        problems.add("--config-dir " + d + " is not a directory");
      }
    }
    List<InetSocketAddress> cp =
        caps.controlPlane()
            ? List.of(
                new InetSocketAddress(options.controlPlaneAddress(), options.xdsPort()),
                new InetSocketAddress(options.controlPlaneAddress(), options.monitoringPort()),
                new InetSocketAddress(options.controlPlaneAddress(), CA_PORT),
                new InetSocketAddress(options.controlPlaneAddress(), MeshTracing.PORT))
            : List.of();
    problems.addAll(plan.portsInUse(cp));
    if (caps.sidecars()) {
      problems.addAll(IngressGateways.portsInUse(spec));
    }
    return problems;
  }

  /**
   * The MeshConfig the control plane will serve: with sidecars, the runner's profile ({@link
   * MeshTracing#meshYaml()}: tracing to the control plane's collector), then each {@code mesh.yaml}
   * at the top of a config directory, each applied over the one before as istiod applies a file
   * over its defaults (decision 0033: the user's fields override field by field; the profile's
   * {@code defaultProviders} and {@code extensionProviders} stay unless the user sets them), else
   * Istio's defaults. The runner reads it once: its {@code trustDomain} is what the CA issues in (a
   * new trust domain needs new certificates, so it takes a restart, as with Istio's CA) and its
   * {@code defaultConfig} shapes each sidecar's bootstrap and command line.
   *
   * @throws IllegalArgumentException naming the file and field when a mesh.yaml is invalid
   */
  dev.bowline.api.mesh.MeshConfig loadMeshConfig() throws IOException {
    mesh = readMeshConfig();
    return mesh;
  }

  private dev.bowline.api.mesh.MeshConfig readMeshConfig() throws IOException {
    dev.bowline.config.MeshConfigStore store =
        new dev.bowline.config.MeshConfigStore(
            new dev.bowline.api.ResourceCodec(),
            new dev.bowline.api.validation.Validator(),
            java.time.Clock.systemUTC());
    if (plan.meshed() && caps.controlPlaneConfigDir()) {
      // the same text start() writes for the control plane, first of its config directories
      store.update(
          MeshTracing.dir(options.runDir()).resolve("mesh.yaml").toString(),
          MeshTracing.meshYaml());
    }
    for (Path d : configDirs()) {
      Path file = d.resolve("mesh.yaml");
      if (Files.isRegularFile(file)) {
        List<dev.bowline.api.Message> errors =
            store.update(file.toString(), Files.readString(file));
        if (!errors.isEmpty()) {
          throw new IllegalArgumentException("invalid MeshConfig: " + errors.getFirst());
        }
      }
    }
    return store.current();
  }

  /**
   * Node metadata from MeshConfig, as pilot-agent adds it: {@code MESH_ID} ({@code
   * defaultConfig.meshId}, else the trust domain) and every {@code ISTIO_META_*} entry of {@code
   * defaultConfig.proxyMetadata}, without the prefix.
   */
  Map<String, String> meshMetadata() {
    Map<String, String> out = new LinkedHashMap<>();
    var d = mesh.defaultConfig();
    String meshId = d == null ? null : d.meshId();
    if (meshId == null || meshId.isEmpty()) {
      meshId = mesh.trustDomain() == null ? "cluster.local" : mesh.trustDomain();
    }
    out.put("MESH_ID", meshId);
    if (d != null) {
      d.proxyMetadata()
          .forEach(
              (k, v) -> {
                if (k.startsWith("ISTIO_META_") && k.length() > "ISTIO_META_".length()) {
                  out.put(k.substring("ISTIO_META_".length()), v);
                }
              });
    }
    return out;
  }

  /**
   * MeshConfig {@code defaultConfig.concurrency} when the mesh.yaml changes it from Istio's 2, else
   * the runner's 1 (a local mesh shares a few cores between many sidecars).
   */
  private String sidecarConcurrency() {
    var d = mesh.defaultConfig();
    Integer c = d == null ? null : d.concurrency();
    Integer istio = dev.bowline.api.mesh.MeshConfig.defaults().defaultConfig().concurrency();
    return c != null && c > 0 && !c.equals(istio) ? c.toString() : "1";
  }

  /**
   * MeshConfig {@code defaultConfig.terminationDrainDuration} when the mesh.yaml changes it from
   * Istio's 5 s, else the runner's short drain.
   */
  private String sidecarDrainSeconds() {
    var d = mesh.defaultConfig();
    java.time.Duration t = d == null ? null : d.terminationDrainDuration();
    java.time.Duration istio =
        dev.bowline.api.mesh.MeshConfig.defaults().defaultConfig().terminationDrainDuration();
    return t != null && !t.equals(istio)
        ? Long.toString(Math.max(0, t.toSeconds()))
        : PROXY_DRAIN_SECONDS;
  }

  private List<Path> configDirs() {
    return options.configDirs().isEmpty() ? spec.configDirs() : options.configDirs();
  }

  /** Step 1: {@code bowline control-plane --registry FILE ...}, ready when {@code /ready} is. */
  private boolean startAndAwaitControlPlane(Path registry)
      throws IOException, InterruptedException {
    return awaitControlPlane(startControlPlane(registry));
  }

  /** Starts step 1; {@link #awaitControlPlane} waits for it. */
  private Child startControlPlane(Path registry) throws IOException {
    List<String> args = new ArrayList<>(controlPlaneArgs(registry));
    Supervisor.Spec s =
        new Supervisor.Spec(
            "control-plane",
            jvm.bowline(CONTROL_PLANE_FLAGS, args),
            Map.of(),
            options.runDir(),
            options.runDir().resolve("control-plane.log"),
            new Probe.Http(
                URI.create(
                    "http://"
                        + options.controlPlaneAddress()
                        + ":"
                        + options.monitoringPort()
                        + "/ready")));
    return supervisor.start(s);
  }

  /** Whether the control plane {@code cp} became ready; says so either way. */
  private boolean awaitControlPlane(Child cp) throws InterruptedException {
    Supervisor.Spec s = cp.spec();
    Readiness r = supervisor.awaitReady(cp, options.readyTimeout());
    if (r instanceof Readiness.Ready ready) {
      say(
          "control plane: ready in "
              + millis(ready.after())
              + ", xDS "
              + options.controlPlaneAddress()
              + ":"
              + options.xdsPort()
              + ", debug http://"
              + options.controlPlaneAddress()
              + ":"
              + options.monitoringPort()
              + "/debug/syncz");
      if (plan.meshed() && caps.controlPlaneConfigDir()) {
        say(
            "traces: OTLP "
                + options.controlPlaneAddress()
                + ":"
                + MeshTracing.PORT
                + ", sampled "
                + MeshTracing.SAMPLING
                + "%, http://"
                + options.controlPlaneAddress()
                + ":"
                + options.monitoringPort()
                + "/api/traces");
      }
      return true;
    }
    say("bowline up: control plane failed: " + describe(r, s.log()));
    return false;
  }

  /** The control plane's command line (after {@code bowline}). */
  private List<String> controlPlaneArgs(Path registry) {
    List<String> args = new ArrayList<>();
    args.add("control-plane");
    args.add("--registry");
    args.add(registry.toString());
    args.add("--address");
    args.add(options.controlPlaneAddress());
    args.add("--xds-port");
    args.add(Integer.toString(options.xdsPort()));
    args.add("--monitoring-port");
    args.add(Integer.toString(options.monitoringPort()));
    if (caps.controlPlaneConfigDir()) {
      if (plan.meshed()) {
        // first, so that a mesh.yaml of the user's config is applied over it (decision 0033)
        args.add("--config-dir");
        args.add(MeshTracing.dir(options.runDir()).toString());
      }
      for (Path d : configDirs()) {
        args.add("--config-dir");
        args.add(d.toString());
      }
    } else if (!configDirs().isEmpty()) {
      say("control plane: takes no --config-dir yet; Istio config is not applied");
    }
    return args;
  }

  /**
   * Step 2: {@code bowline proxy -c bootstrap.yaml} per instance; an instance whose sidecar could
   * not even be started is missing ({@link #awaitSidecars} reports it).
   */
  private Map<Instance, Child> startSidecars() {
    Map<Instance, Child> started = new LinkedHashMap<>();
    for (Instance i : plan.instances()) {
      try {
        started.put(i, supervisor.start(sidecarSpec(i)));
      } catch (IOException e) {
        say(
            "bowline up: sidecar of "
                + i.name()
                + "."
                + i.workload().namespace()
                + ": not started: "
                + e.getMessage());
      }
    }
    return started;
  }

  /** Waits for the sidecars {@link #startSidecars} started; the failures by instance. */
  private Map<Instance, String> awaitSidecars(Map<Instance, Child> started)
      throws InterruptedException {
    Map<Instance, String> failed = new LinkedHashMap<>();
    for (Instance i : plan.instances()) {
      if (!started.containsKey(i)) {
        failed.put(i, "sidecar not started");
      }
    }
    Map<Instance, Readiness> ready = awaitAll(started);
    ready.forEach(
        (i, r) -> {
          if (!(r instanceof Readiness.Ready)) {
            String why = describe(r, started.get(i).spec().log());
            failed.put(i, "sidecar " + why);
            say("bowline up: sidecar of " + i.name() + "." + i.workload().namespace() + ": " + why);
          }
        });
    return failed;
  }

  /** Step 2 for {@code i}: {@code bowline proxy -c <run dir>/<instance>.<ns>/bootstrap.yaml}. */
  public Supervisor.Spec sidecarSpec(Instance i) {
    Path dir = instanceDir(i);
    return new Supervisor.Spec(
        what(i) + " sidecar",
        jvm.proxy(
            "sidecar",
            SIDECAR_FLAGS,
            List.of(
                "-c",
                dir.resolve("bootstrap.yaml").toString(),
                "--concurrency",
                sidecarConcurrency(),
                "--merged-metrics", // pilot-agent's :15020 (decision 0015)
                i.address() + ":15020",
                "--drain-time-s",
                sidecarDrainSeconds())),
        Map.of(),
        dir,
        dir.resolve("sidecar.log"),
        sidecarReady(i));
  }

  /**
   * A sidecar is ready when its admin says so and it listens where its app needs it: the outbound
   * port 15001 ({@code HTTP_PROXY}) and every service port (inbound). Until the control plane sends
   * those listeners, the sidecar is reported not ready, never silently used.
   */
  private static Probe sidecarReady(Instance i) {
    List<Probe> probes = new ArrayList<>();
    probes.add(new Probe.Http(URI.create("http://" + i.address() + ":15000/ready")));
    probes.add(new Probe.Tcp(i.address(), 15001));
    for (Port p : i.workload().ports()) {
      probes.add(new Probe.Tcp(i.address(), p.number()));
    }
    return new Probe.All(probes);
  }

  /** Step 3: every app, all waited for together; an instance whose sidecar failed is skipped. */
  private List<Row> startApps(Map<Instance, String> sidecarFailures) throws InterruptedException {
    Map<Instance, Child> started = new LinkedHashMap<>();
    Map<Instance, String> health = new LinkedHashMap<>();
    for (Instance i : plan.instances()) {
      if (sidecarFailures.containsKey(i)) {
        markUnhealthy(i);
        health.put(i, "not started: " + sidecarFailures.get(i));
        continue;
      }
      try {
        Child app = supervisor.start(appSpec(i));
        app.process().onExit().thenRun(() -> markUnhealthy(i));
        started.put(i, app);
      } catch (IOException e) {
        markUnhealthy(i);
        health.put(i, "not started: " + e.getMessage());
        say("bowline up: " + what(i) + " not started: " + e.getMessage());
      }
    }
    Map<Instance, Readiness> ready = awaitAll(started);
    List<Row> rows = new ArrayList<>();
    for (Instance i : plan.instances()) {
      Child c = started.get(i);
      Readiness r = ready.get(i);
      String h;
      if (r == null) {
        h = health.getOrDefault(i, "not started");
      } else if (r instanceof Readiness.Ready ok) {
        h = "ready " + millis(ok.after());
      } else {
        markUnhealthy(i);
        h = describe(r, Objects.requireNonNull(c).spec().log());
        say("bowline up: " + what(i) + " failed to start: " + h);
      }
      rows.add(new Row(i, c, h));
    }
    return rows;
  }

  /** The app of {@code i}: a Weather role in its own JVM, or the workload's command. */
  Supervisor.Spec appSpec(Instance i) {
    Workload w = i.workload();
    Map<String, String> env = appEnv(i);
    List<String> argv =
        switch (w.run()) {
          case MeshSpec.Role role -> jvm.jar(options.weatherJar());
          case MeshSpec.Command c -> c.argv().stream().map(a -> substitute(a, env)).toList();
        };
    Port first = MeshPlan.httpPort(w).orElseThrow();
    Probe probe =
        w.healthPath().isEmpty()
            ? new Probe.Tcp(i.address(), plan.appPort(first))
            : new Probe.Http(
                URI.create("http://" + i.address() + ":" + plan.appPort(first) + w.healthPath()));
    Path dir = w.run() instanceof MeshSpec.Command ? spec.baseDir() : instanceDir(i);
    return new Supervisor.Spec(what(i), argv, env, dir, instanceDir(i).resolve("app.log"), probe);
  }

  /**
   * The app's environment: {@code BOWLINE_*} (address, instance, namespace, one port per name), the
   * Weather app's variables for a role, then either its sidecar ({@code HTTP_PROXY}) or, with no
   * mesh, the direct URL of every service ({@code FORECAST_URL=http://127.0.0.3:3002}), and last
   * the workload's own {@code env}.
   */
  Map<String, String> appEnv(Instance i) {
    Workload w = i.workload();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("BOWLINE_ADDRESS", i.address());
    env.put("BOWLINE_INSTANCE", i.name());
    env.put("BOWLINE_NAMESPACE", w.namespace());
    for (Port p : w.ports()) {
      env.put("BOWLINE_PORT_" + envName(p.name()), Integer.toString(plan.appPort(p)));
    }
    if (w.run() instanceof MeshSpec.Role(String role)) {
      env.put("WEATHER_ROLE", role);
      env.put("WEATHER_VERSION", w.labels().getOrDefault("version", "v1"));
      env.put("WEATHER_BIND", i.address());
      env.put("WEATHER_INSTANCE", i.name());
      env.put("WEATHER_PORT", Integer.toString(plan.appPort(MeshPlan.httpPort(w).orElseThrow())));
      if (role.equals("recommendation")) {
        env.put(
            "WEATHER_GRPC_PORT",
            w.port("grpc").map(p -> Integer.toString(plan.appPort(p))).orElse("-1"));
      }
    }
    if (plan.meshed()) {
      env.putAll(SidecarBootstrap.appEnv(i));
    } else {
      plan.firstInstanceOfEachService()
          .forEach(
              (service, target) -> {
                if (target.workload().namespace().equals(w.namespace())) {
                  Port p = MeshPlan.httpPort(target.workload()).orElseThrow();
                  env.put(
                      envName(target.workload().app()) + "_URL",
                      "http://" + target.address() + ":" + p.number());
                }
              });
    }
    env.putAll(w.env());
    return env;
  }

  private Map<Instance, Readiness> awaitAll(Map<Instance, Child> started)
      throws InterruptedException {
    Map<Instance, Future<Readiness>> waits = new LinkedHashMap<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      started.forEach(
          (i, c) ->
              waits.put(i, pool.submit(() -> supervisor.awaitReady(c, options.readyTimeout()))));
      Map<Instance, Readiness> out = new LinkedHashMap<>();
      for (Map.Entry<Instance, Future<Readiness>> e : waits.entrySet()) {
        try {
          out.put(e.getKey(), e.getValue().get());
        } catch (ExecutionException ex) {
          out.put(e.getKey(), new Readiness.NotStarted(String.valueOf(ex.getCause())));
        }
      }
      return out;
    }
  }

  private void printTable(List<Row> rows) {
    List<List<String>> cells = new ArrayList<>();
    cells.add(List.of("WORKLOAD", "INSTANCE", "ADDRESS", "PORTS", "VERSION", "PID", "HEALTH"));
    for (Row r : rows) {
      Workload w = r.instance().workload();
      String ports =
          w.ports().stream()
              .map(p -> p.name() + ":" + p.number() + (plan.meshed() ? "->" + plan.appPort(p) : ""))
              .collect(Collectors.joining(","));
      cells.add(
          List.of(
              w.namespace() + "/" + w.name(),
              r.instance().name(),
              r.instance().address(),
              ports,
              w.version().isEmpty() ? "-" : w.version(),
              r.app() == null ? "-" : Long.toString(r.app().pid()),
              r.health()));
    }
    int[] width = new int[cells.get(0).size()];
    for (List<String> row : cells) {
      for (int c = 0; c < row.size(); c++) {
        width[c] = Math.max(width[c], row.get(c).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (List<String> row : cells) {
      for (int c = 0; c < row.size(); c++) {
        String v = row.get(c);
        sb.append(c == row.size() - 1 ? v : v + " ".repeat(width[c] - v.length() + 2));
      }
      sb.append('\n');
    }
    synchronized (out) {
      out.print(sb);
      out.flush();
    }
  }

  private String describe(Readiness r, Path log) {
    return switch (r) {
      case Readiness.Ready ok -> "ready " + millis(ok.after());
      case Readiness.Exited e when e.code() == NOT_BUILT ->
          "exited " + NOT_BUILT + ": not built yet (log: " + log + ")";
      case Readiness.Exited e -> "exited " + e.code() + " (log: " + log + ")";
      case Readiness.TimedOut t -> "not ready after " + millis(t.timeout()) + " (log: " + log + ")";
      case Readiness.NotStarted n -> "not started: " + n.reason();
    };
  }

  private Path instanceDir(Instance i) {
    return options.runDir().resolve(i.name() + "." + i.workload().namespace());
  }

  private String shown(Path p) {
    Path base = spec.baseDir();
    return p.startsWith(base) ? base.relativize(p).toString() : p.toString();
  }

  private static String what(Instance i) {
    return "workload="
        + i.workload().namespace()
        + "/"
        + i.workload().name()
        + " instance="
        + i.name();
  }

  static String envName(String s) {
    return s.toUpperCase(java.util.Locale.ROOT).replace('-', '_').replace('.', '_');
  }

  static String substitute(String arg, Map<String, String> env) {
    Matcher m = VAR.matcher(arg);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      String v = env.getOrDefault(m.group(1), System.getenv().getOrDefault(m.group(1), ""));
      m.appendReplacement(sb, Matcher.quoteReplacement(v));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  private static String millis(Duration d) {
    return d.toMillis() >= 10_000 ? d.toSeconds() + "s" : (d.toMillis() / 100) / 10.0 + "s";
  }

  private void say(String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  /** Step 1 alone, for tests of the launching code: whether the control plane became ready. */
  public boolean startControlPlaneForTest(Path registry) throws IOException, InterruptedException {
    return startAndAwaitControlPlane(registry);
  }

  /** The control plane's arguments (after {@code bowline}), for tests. */
  public List<String> controlPlaneArgsForTest(Path registry) {
    return controlPlaneArgs(registry);
  }

  /** Stops every process started (SIGTERM, then SIGKILL after the grace period). */
  @Override
  public void close() {
    supervisor.close();
    MeshSecurity sec = security;
    if (sec != null) {
      sec.close();
    }
    ClassDataSharing.Dumps dumps = cdsDumps;
    if (dumps != null && dumps.pending()) {
      say("bowline up: finishing the start-up archives (first run only, up to 15 s)");
      dumps.finish(java.time.Duration.ofSeconds(15));
    }
  }
}
