package dev.bowline.controlplane.debug;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.RegistrySnapshot;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.controlplane.registry.ServicePort;
import dev.bowline.controlplane.registry.ServiceRegistry;
import dev.bowline.controlplane.xds.gen.TypeUrls;
import dev.bowline.controlplane.xds.gen.XdsJson;
import dev.bowline.controlplane.xds.server.SyncStatus;
import dev.bowline.controlplane.xds.server.XdsServer;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The control plane's monitoring port (Istio: 15014): {@code /ready}, {@code /metrics}
 * (Prometheus), {@code /debug/syncz}, {@code /debug/registryz}, {@code /debug/push_status} and
 * {@code /debug/config_dump?proxyID=}. Served by the JDK's HTTP server on two threads; it is for
 * operators and tests, not a hot path.
 */
public final class DebugServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(DebugServer.class.getName());
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final BooleanSupplier ready;
  private final PrometheusMeterRegistry meters;
  private final XdsServer xds;
  private final ServiceRegistry registry;
  private final Map<String, Supplier<Object>> extra = new java.util.LinkedHashMap<>();
  private final Map<String, com.sun.net.httpserver.HttpHandler> handlers =
      new java.util.LinkedHashMap<>();
  private @Nullable HttpServer server;
  private @Nullable ExecutorService executor;

  /** A debug server over these components; not listening until {@link #start}. */
  public DebugServer(
      BooleanSupplier ready,
      PrometheusMeterRegistry meters,
      XdsServer xds,
      ServiceRegistry registry) {
    this.ready = Objects.requireNonNull(ready, "ready");
    this.meters = Objects.requireNonNull(meters, "meters");
    this.xds = Objects.requireNonNull(xds, "xds");
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** Starts listening on {@code address}. */
  public synchronized void start(InetSocketAddress address) throws IOException {
    HttpServer s = HttpServer.create(address, 50);
    s.createContext("/ready", this::ready);
    s.createContext(
        "/metrics",
        ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", meters.scrape()));
    s.createContext("/debug/syncz", ex -> json(ex, syncz()));
    s.createContext("/debug/registryz", ex -> json(ex, registryz()));
    s.createContext("/debug/config_dump", this::configDump);
    s.createContext("/debug/push_status", ex -> json(ex, pushStatus()));
    extra.forEach((path, body) -> s.createContext(path, ex -> json(ex, body.get())));
    handlers.forEach(s::createContext);
    s.createContext(
        "/",
        ex -> send(ex, 404, "text/plain", "not found: " + ex.getRequestURI().getPath() + "\n"));
    executor =
        Executors.newFixedThreadPool(
            2, Thread.ofPlatform().daemon().name("debug-http-", 0).factory());
    s.setExecutor(executor);
    s.start();
    server = s;
  }

  /**
   * Serves {@code body}, as JSON, at {@code path} (e.g. {@code /debug/configz} from the config
   * feed); from now on if already listening.
   */
  public synchronized void addJsonEndpoint(String path, Supplier<Object> body) {
    extra.put(Objects.requireNonNull(path, "path"), Objects.requireNonNull(body, "body"));
    if (server != null) {
      server.createContext(path, ex -> json(ex, body.get()));
    }
  }

  /**
   * Serves {@code path} with {@code handler} (e.g. the config API's {@code POST /config/apply});
   * from now on if already listening.
   */
  public synchronized void addHandler(String path, com.sun.net.httpserver.HttpHandler handler) {
    handlers.put(Objects.requireNonNull(path, "path"), Objects.requireNonNull(handler, "handler"));
    if (server != null) {
      server.createContext(path, handler);
    }
  }

  /** The port it listens on. */
  public synchronized int port() {
    return Objects.requireNonNull(server, "not started").getAddress().getPort();
  }

  private void ready(HttpExchange ex) throws IOException {
    if (ready.getAsBoolean()) {
      send(ex, 200, "text/plain", "ready\n");
    } else {
      send(ex, 503, "text/plain", "not ready\n");
    }
  }

  private ObjectNode syncz() {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode proxies = root.putArray("proxies");
    for (SyncStatus s : xds.syncStatus()) {
      ObjectNode p = proxies.addObject();
      p.put("proxy", s.proxyId());
      p.put("connection_id", s.connectionId());
      p.put("namespace", s.namespace());
      p.put("cluster_id", s.clusterId());
      p.put("istio_version", s.istioVersion());
      p.put("generator", s.generator());
      p.put("peer", s.peer());
      p.put("protocol", s.protocol());
      p.put("connected_at", s.connectedAt().toString());
      ObjectNode types = p.putObject("types");
      s.types()
          .forEach(
              (type, t) -> {
                ObjectNode n = types.putObject(type);
                n.put("status", t.status());
                n.put("wildcard", t.wildcard());
                n.set("subscribed", JSON.valueToTree(t.subscribed()));
                n.put("sent_nonce", t.sentNonce());
                n.put("sent_version", t.sentVersion());
                n.put("acked_nonce", t.ackedNonce());
                n.put("acked_version", t.ackedVersion());
                n.put("resources", t.resources());
                n.set("missing", JSON.valueToTree(t.missing()));
                if (t.nackError() != null) {
                  n.put("nack_error", t.nackError());
                  n.put("nack_at", String.valueOf(t.nackAt()));
                }
              });
    }
    ArrayNode rejected = root.putArray("rejected");
    for (SyncStatus.Rejected r : xds.rejected()) {
      ObjectNode n = rejected.addObject();
      n.put("peer", r.peer());
      n.put("node_id", r.nodeId());
      n.put("error", r.error());
      n.put("at", r.at().toString());
    }
    return root;
  }

  private ObjectNode pushStatus() {
    ObjectNode root = JSON.createObjectNode();
    root.put("current_version", xds.pushContext().version());
    root.put("connected", xds.connectionCount());
    xds.lastPush()
        .ifPresent(
            p -> {
              ObjectNode n = root.putObject("last_push");
              n.put("version", p.version());
              n.put("at", p.at().toString());
              n.put("full", p.full());
              n.set("eds_hosts", JSON.valueToTree(new java.util.TreeSet<>(p.edsHosts())));
              n.set("reasons", JSON.valueToTree(new java.util.TreeSet<>(p.reasons())));
              n.put("proxies_queued", p.proxiesQueued());
              n.put("connected", p.connected());
            });
    return root;
  }

  private ObjectNode registryz() {
    RegistrySnapshot snap = registry.snapshot();
    ObjectNode root = JSON.createObjectNode();
    root.put("version", snap.version());
    if (registry instanceof dev.bowline.controlplane.registry.MeshRegistry mesh) {
      root.set("warnings", JSON.valueToTree(mesh.warnings()));
    }
    ArrayNode services = root.putArray("services");
    for (Service s : snap.services()) {
      ObjectNode n = services.addObject();
      n.put("hostname", s.hostname());
      n.put("namespace", s.namespace());
      n.put("origin", s.origin());
      n.put("resolution", s.resolution().name());
      n.put("mesh_external", s.meshExternal());
      n.set("addresses", JSON.valueToTree(s.addresses()));
      n.set("export_to", JSON.valueToTree(s.exportTo()));
      n.set("labels", JSON.valueToTree(s.labels()));
      ArrayNode ports = n.putArray("ports");
      for (ServicePort p : s.ports()) {
        ObjectNode pn = ports.addObject();
        pn.put("name", p.name());
        pn.put("port", p.port());
        pn.put("protocol", p.protocol().name());
        pn.put("target_port", p.targetPort());
        ArrayNode eps = pn.putArray("endpoints");
        for (Endpoint e : snap.endpoints(s.hostname(), p.port())) {
          ObjectNode en = eps.addObject();
          en.put("address", e.address());
          en.put("port", e.port());
          en.put("workload", e.namespace() + "/" + e.workloadName());
          en.set("labels", JSON.valueToTree(e.labels()));
          en.put("service_account", e.spiffeId(snap.domainSuffix()));
          en.put("locality", e.locality().toString());
          en.put("network", e.network());
          en.put("health", e.health().name());
          en.put("weight", e.weight());
        }
      }
    }
    return root;
  }

  private void configDump(HttpExchange ex) throws IOException {
    String proxyId = query(ex, "proxyID");
    if (proxyId == null || proxyId.isEmpty()) {
      send(ex, 400, "text/plain", "config_dump: the proxyID query parameter is required\n");
      return;
    }
    Optional<Map<String, SortedMap<String, Message>>> dump = xds.configDump(proxyId);
    if (dump.isEmpty()) {
      send(ex, 404, "text/plain", "config_dump: proxy '" + proxyId + "' is not connected\n");
      return;
    }
    String version = Long.toString(xds.pushContext().version());
    ConfigDump.Builder out = ConfigDump.newBuilder();
    Map<String, SortedMap<String, Message>> byType = dump.get();
    ClustersConfigDump.Builder cds = ClustersConfigDump.newBuilder().setVersionInfo(version);
    byType
        .getOrDefault(TypeUrls.CLUSTER, new java.util.TreeMap<>())
        .values()
        .forEach(
            m ->
                cds.addDynamicActiveClusters(
                    ClustersConfigDump.DynamicCluster.newBuilder()
                        .setVersionInfo(version)
                        .setCluster(Any.pack(m))));
    ListenersConfigDump.Builder lds = ListenersConfigDump.newBuilder().setVersionInfo(version);
    byType
        .getOrDefault(TypeUrls.LISTENER, new java.util.TreeMap<>())
        .forEach(
            (name, m) ->
                lds.addDynamicListeners(
                    ListenersConfigDump.DynamicListener.newBuilder()
                        .setName(name)
                        .setActiveState(
                            ListenersConfigDump.DynamicListenerState.newBuilder()
                                .setVersionInfo(version)
                                .setListener(Any.pack(m)))));
    RoutesConfigDump.Builder rds = RoutesConfigDump.newBuilder();
    byType
        .getOrDefault(TypeUrls.ROUTE, new java.util.TreeMap<>())
        .values()
        .forEach(
            m ->
                rds.addDynamicRouteConfigs(
                    RoutesConfigDump.DynamicRouteConfig.newBuilder()
                        .setVersionInfo(version)
                        .setRouteConfig(Any.pack(m))));
    EndpointsConfigDump.Builder eds = EndpointsConfigDump.newBuilder();
    byType
        .getOrDefault(TypeUrls.ENDPOINT, new java.util.TreeMap<>())
        .values()
        .forEach(
            m ->
                eds.addDynamicEndpointConfigs(
                    EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
                        .setVersionInfo(version)
                        .setEndpointConfig(Any.pack(m))));
    out.addConfigs(Any.pack(cds.build()))
        .addConfigs(Any.pack(lds.build()))
        .addConfigs(Any.pack(rds.build()))
        .addConfigs(Any.pack(eds.build()));
    try {
      send(ex, 200, "application/json", XdsJson.print(out) + "\n");
    } catch (InvalidProtocolBufferException e) {
      send(ex, 500, "text/plain", "config_dump: " + e.getMessage() + "\n");
    }
  }

  private static @Nullable String query(HttpExchange ex, String key) {
    String q = ex.getRequestURI().getRawQuery();
    if (q == null) {
      return null;
    }
    for (String part : q.split("&")) {
      int eq = part.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
      if (k.equals(key)) {
        return eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  private static void json(HttpExchange ex, Object body) throws IOException {
    send(ex, 200, "application/json", JSON.writeValueAsString(body) + "\n");
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    try (ex) {
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", type);
      ex.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(
          Level.DEBUG, () -> "event=debug_http_error path=" + ex.getRequestURI() + " error=" + e);
      throw e;
    }
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.stop(0);
      server = null;
    }
    if (executor != null) {
      executor.shutdownNow();
      executor = null;
    }
  }
}
