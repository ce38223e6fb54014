package dev.bowline.controlplane.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.bowline.config.ConfigSnapshot;
import dev.bowline.controlplane.ControlPlane;
import dev.bowline.controlplane.config.IstioConfigInputs;
import dev.bowline.controlplane.dashboard.TrafficGraph.Edge;
import dev.bowline.controlplane.model.NodeType;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.registry.Endpoint;
import dev.bowline.controlplane.registry.RegistrySnapshot;
import dev.bowline.controlplane.registry.Service;
import dev.bowline.controlplane.registry.ServicePort;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The mesh dashboard on the control plane's monitoring port: the page at {@code /dashboard/} (plain
 * ES modules and SVG from the classpath) and its JSON API, {@code GET /api/graph} (nodes, edges
 * with rps, error rate, P50/P99), {@code /api/services/NS/NAME} and {@code
 * /api/workloads/NS/APP/VERSION} (details and the Istio config that applies). The numbers come from
 * a {@link MeshScraper} reading every connected proxy's Istio metrics. Traces are another
 * component's ({@code /api/traces}); the page shows them when that endpoint exists.
 *
 * <p>Lifecycle: {@link #start}, {@link #close()}.
 */
public final class MeshDashboard implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshDashboard.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String UI = "/dev/bowline/controlplane/dashboard/ui/";
  private static final Pattern ASSET = Pattern.compile("[a-z][a-z0-9-]*\\.(html|js|css|svg)");
  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "svg", "image/svg+xml");

  private final ControlPlane controlPlane;
  private final Supplier<ConfigSnapshot> config;
  private final MeshScraper scraper;
  private final DashboardOptions options;

  private MeshDashboard(
      ControlPlane controlPlane,
      Supplier<ConfigSnapshot> config,
      DashboardOptions options,
      Clock clock) {
    this.controlPlane = controlPlane;
    this.config = config;
    this.scraper = new MeshScraper(this::targets, options, clock, System::nanoTime);
    this.options = options;
  }

  /**
   * Serves the dashboard on {@code controlPlane}'s monitoring port and starts scraping its proxies;
   * {@code config} gives the Istio config in force (for "what applies to this workload").
   */
  public static MeshDashboard start(
      ControlPlane controlPlane,
      Supplier<ConfigSnapshot> config,
      DashboardOptions options,
      Clock clock) {
    MeshDashboard d =
        new MeshDashboard(
            Objects.requireNonNull(controlPlane, "controlPlane"),
            Objects.requireNonNull(config, "config"),
            Objects.requireNonNull(options, "options"),
            Objects.requireNonNull(clock, "clock"));
    controlPlane.addDebugHandler("/dashboard", d::page);
    controlPlane.addDebugHandler("/api/graph", ex -> d.get(ex, () -> d.graphJson()));
    controlPlane.addDebugHandler("/api/services/", ex -> d.get(ex, () -> d.serviceJson(ex)));
    controlPlane.addDebugHandler("/api/workloads/", ex -> d.get(ex, () -> d.workloadJson(ex)));
    d.scraper.start();
    return d;
  }

  /** The scraper (tests drive rounds with {@code scrapeOnce}). */
  MeshScraper scraper() {
    return scraper;
  }

  /** Every connected Envoy-type proxy's stats URL (proxyless gRPC clients serve none). */
  private List<MeshScraper.Target> targets() {
    Map<String, MeshScraper.Target> out = new TreeMap<>();
    for (Proxy p : controlPlane.xds().connectedProxies()) {
      if (p.generator().equals("grpc") || p.ipAddress().isEmpty()) {
        continue;
      }
      String host = p.ipAddress().contains(":") ? "[" + p.ipAddress() + "]" : p.ipAddress();
      URI url = URI.create("http://" + host + ":" + options.statsPort() + "/stats/prometheus");
      out.putIfAbsent(url.toString(), new MeshScraper.Target(p.id(), url));
    }
    return List.copyOf(out.values());
  }

  // ---- the model the page draws: nodes from the registry, proxies and metrics; edges ----

  /** What is known of one node. */
  private static final class Node {
    final NodeRef ref;
    final Set<String> services = new TreeSet<>();
    final Set<String> workloads = new TreeSet<>();
    final Set<String> instances = new TreeSet<>();
    final Set<String> endpoints = new TreeSet<>();
    final Map<String, String> labels = new TreeMap<>();
    final Map<String, String> proxies = new TreeMap<>(); // id -> type
    boolean gateway;

    Node(NodeRef ref) {
      this.ref = ref;
    }
  }

  private record Model(TrafficGraph graph, Map<NodeRef, Node> nodes, RegistrySnapshot registry) {}

  private Model model() {
    TrafficGraph graph = scraper.graph();
    RegistrySnapshot reg = controlPlane.registry().snapshot();
    Map<NodeRef, Node> nodes = new TreeMap<>();
    for (Service s : reg.services()) {
      for (ServicePort p : s.ports()) {
        for (Endpoint e : reg.endpoints(s.hostname(), p.port())) {
          if (e.workloadName().isEmpty()) {
            continue;
          }
          NodeRef ref = NodeRef.ofLabels(e.namespace(), e.workloadName(), e.labels());
          Node n = nodes.computeIfAbsent(ref, Node::new);
          n.services.add(s.hostname());
          n.instances.add(e.workloadName());
          n.endpoints.add(e.address() + ":" + e.port());
          n.labels.putAll(e.labels());
          if (isGatewayLabels(e.labels())) {
            n.gateway = true;
          }
        }
      }
    }
    for (Proxy p : controlPlane.xds().connectedProxies()) {
      if (p.generator().equals("grpc")) {
        continue;
      }
      NodeRef ref = NodeRef.ofLabels(p.namespace(), p.workloadName(), p.labels());
      Node n = nodes.computeIfAbsent(ref, Node::new);
      n.proxies.put(p.id(), p.type().id());
      n.instances.add(p.workloadName());
      n.labels.putAll(p.labels());
      n.gateway |= p.type() == NodeType.ROUTER;
    }
    graph
        .workloads()
        .forEach((ref, names) -> nodes.computeIfAbsent(ref, Node::new).workloads.addAll(names));
    for (Edge e : graph.edges()) {
      nodes.computeIfAbsent(e.source(), Node::new);
      nodes.computeIfAbsent(e.destination(), Node::new);
    }
    return new Model(graph, nodes, reg);
  }

  private static boolean isGatewayLabels(Map<String, String> labels) {
    String istio = labels.getOrDefault("istio", "");
    return istio.endsWith("gateway");
  }

  ObjectNode graphJson() {
    Model m = model();
    ObjectNode root = JSON.createObjectNode();
    root.put("at", m.graph().at().toString());
    root.put("windowSeconds", m.graph().window().toSeconds());
    root.put("scrapeIntervalSeconds", options.scrapeInterval().toMillis() / 1000.0);
    ArrayNode targets = root.putArray("targets");
    for (MeshScraper.TargetStatus t : scraper.statuses()) {
      ObjectNode n = targets.addObject();
      n.put("proxy", t.proxyId());
      n.put("url", t.url().toString());
      n.put("ok", t.error() == null);
      n.put("error", t.error());
      n.put("lastOk", t.lastOk() == null ? null : t.lastOk().toString());
      n.put("series", t.series());
      n.put("bytes", t.bytes());
      n.put("millis", t.millis());
    }
    ArrayNode nodes = root.putArray("nodes");
    for (Node n : m.nodes().values()) {
      ObjectNode o = node(n);
      o.set("inbound", traffic(inbound(m, n.ref)));
      nodes.add(o);
    }
    ArrayNode edges = root.putArray("edges");
    m.graph().edges().forEach(e -> edges.add(edge(e)));
    return root;
  }

  private static Traffic inbound(Model m, NodeRef ref) {
    Traffic t = Traffic.NONE;
    for (Edge e : m.graph().edges()) {
      if (e.destination().equals(ref)) {
        t = t.plus(e.traffic());
      }
    }
    return t;
  }

  private static ObjectNode node(Node n) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", n.ref.id());
    o.put("namespace", n.ref.namespace());
    o.put("app", n.ref.app());
    o.put("version", n.ref.version());
    o.put("kind", n.ref.equals(NodeRef.UNKNOWN) ? "unknown" : n.gateway ? "gateway" : "workload");
    o.set("services", JSON.valueToTree(n.services));
    o.set("workloads", JSON.valueToTree(n.workloads));
    o.set("instances", JSON.valueToTree(n.instances));
    o.set("proxies", JSON.valueToTree(n.proxies.keySet()));
    return o;
  }

  private static ObjectNode edge(Edge e) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", e.source().id() + ">" + e.destination().id());
    o.put("source", e.source().id());
    o.put("target", e.destination().id());
    o.put("reporter", e.reporter());
    o.set("services", JSON.valueToTree(e.services()));
    o.set("protocols", JSON.valueToTree(e.protocols()));
    o.setAll(traffic(e.traffic()));
    return o;
  }

  private static ObjectNode traffic(Traffic t) {
    ObjectNode o = JSON.createObjectNode();
    o.put("rps", round(t.rps()));
    o.put("errorRate", round(t.errorRate()));
    o.put("requests", Math.round(t.requests()));
    putMs(o, "p50Ms", t.quantile(0.5));
    putMs(o, "p99Ms", t.quantile(0.99));
    return o;
  }

  private static void putMs(ObjectNode o, String key, double v) {
    if (Double.isNaN(v)) {
      o.putNull(key);
    } else {
      o.put(key, round(v));
    }
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** {@code /api/services/NS/NAME}: versions with their traffic, endpoints, edges in and out. */
  private Reply serviceJson(HttpExchange ex) {
    String[] parts = rest(ex, "/api/services/");
    if (parts.length != 2) {
      return Reply.error(400, "use /api/services/NAMESPACE/NAME");
    }
    Model m = model();
    Service svc = null;
    for (Service s : m.registry().services()) {
      if (s.namespace().equals(parts[0]) && s.name().equals(parts[1])) {
        svc = s;
      }
    }
    if (svc == null) {
      return Reply.error(404, "service " + parts[0] + "/" + parts[1] + " is not in the registry");
    }
    String host = svc.hostname();
    ObjectNode root = JSON.createObjectNode();
    root.put("hostname", host);
    root.put("namespace", svc.namespace());
    root.put("name", svc.name());
    ArrayNode ports = root.putArray("ports");
    for (ServicePort p : svc.ports()) {
      ports
          .addObject()
          .put("name", p.name())
          .put("port", p.port())
          .put("protocol", p.protocol().name());
    }
    ArrayNode versions = root.putArray("versions");
    List<Edge> in = new ArrayList<>();
    List<Edge> out = new ArrayList<>();
    for (Node n : m.nodes().values()) {
      if (!n.services.contains(host)) {
        continue;
      }
      Traffic t = Traffic.NONE;
      for (Edge e : m.graph().edges()) {
        if (e.destination().equals(n.ref)
            && (e.services().isEmpty() || e.services().contains(host))) {
          t = t.plus(e.traffic());
          in.add(e);
        }
        if (e.source().equals(n.ref)) {
          out.add(e);
        }
      }
      ObjectNode v = node(n);
      v.set("endpoints", JSON.valueToTree(n.endpoints));
      v.set("traffic", traffic(t));
      versions.add(v);
    }
    ArrayNode inbound = root.putArray("inbound");
    in.forEach(e -> inbound.add(edge(e)));
    ArrayNode outbound = root.putArray("outbound");
    out.forEach(e -> outbound.add(edge(e)));
    return Reply.ok(root);
  }

  /**
   * {@code /api/workloads/NS/APP/VERSION}: labels, instances, proxies (with their config dump
   * links), edges, and the Istio config that applies.
   */
  private Reply workloadJson(HttpExchange ex) {
    String[] parts = rest(ex, "/api/workloads/");
    if (parts.length != 3) {
      return Reply.error(400, "use /api/workloads/NAMESPACE/APP/VERSION");
    }
    Model m = model();
    Node n = m.nodes().get(new NodeRef(parts[0], parts[1], parts[2]));
    if (n == null) {
      return Reply.error(404, "workload " + String.join("/", parts) + " is not known");
    }
    ObjectNode root = node(n);
    root.set("labels", JSON.valueToTree(n.labels));
    root.set("endpoints", JSON.valueToTree(n.endpoints));
    ArrayNode proxies = root.putArray("proxyDetails");
    n.proxies.forEach(
        (id, type) ->
            proxies
                .addObject()
                .put("id", id)
                .put("type", type)
                .put(
                    "configDump",
                    "/debug/config_dump?proxyID=" + URLEncoder.encode(id, StandardCharsets.UTF_8)));
    Set<String> calls = new TreeSet<>();
    ArrayNode inbound = root.putArray("inbound");
    ArrayNode outbound = root.putArray("outbound");
    for (Edge e : m.graph().edges()) {
      if (e.destination().equals(n.ref)) {
        inbound.add(edge(e));
      }
      if (e.source().equals(n.ref)) {
        outbound.add(edge(e));
        calls.addAll(e.services());
      }
    }
    ArrayNode applied = root.putArray("config");
    for (AppliedConfig.Applied a :
        AppliedConfig.of(
            config.get(),
            new AppliedConfig.Subject(n.ref.namespace(), n.labels, n.services, calls),
            IstioConfigInputs.ROOT_NAMESPACE,
            controlPlane.options().domainSuffix())) {
      applied
          .addObject()
          .put("kind", a.kind())
          .put("namespace", a.namespace())
          .put("name", a.name())
          .put("why", a.why());
    }
    return Reply.ok(root);
  }

  private static String[] rest(HttpExchange ex, String prefix) {
    String path = ex.getRequestURI().getPath().substring(prefix.length());
    if (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return path.isEmpty() ? new String[0] : path.split("/");
  }

  // ---- HTTP ----

  private record Reply(int status, Object body) {
    static Reply ok(Object body) {
      return new Reply(200, body);
    }

    static Reply error(int status, String message) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("error", message);
      return new Reply(status, m);
    }
  }

  private void get(HttpExchange ex, Supplier<Object> body) throws IOException {
    if (!ex.getRequestMethod().equals("GET")) {
      send(
          ex,
          405,
          "application/json",
          "{\"error\":\"use GET\"}\n".getBytes(StandardCharsets.UTF_8));
      return;
    }
    Reply r;
    try {
      Object b = body.get();
      r = b instanceof Reply reply ? reply : Reply.ok(b);
    } catch (RuntimeException e) {
      // One bad answer (a registry or config oddity) must not take the page down.
      LOG.log(
          System.Logger.Level.WARNING,
          "event=dashboard_api_failed path=" + ex.getRequestURI().getPath() + " error=" + e);
      r = Reply.error(500, ex.getRequestURI().getPath() + ": " + e);
    }
    send(ex, r.status(), "application/json", JSON.writeValueAsBytes(r.body()));
  }

  private void page(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    if (path.equals("/dashboard")) {
      ex.getResponseHeaders().set("Location", "/dashboard/");
      send(ex, 302, "text/plain", new byte[0]);
      return;
    }
    if (!path.startsWith("/dashboard/")) {
      send(ex, 404, "text/plain", ("not found: " + path + "\n").getBytes(StandardCharsets.UTF_8));
      return;
    }
    String name = path.substring("/dashboard/".length());
    if (name.isEmpty()) {
      name = "index.html";
    }
    if (!ASSET.matcher(name).matches()) {
      send(ex, 404, "text/plain", ("not found: " + path + "\n").getBytes(StandardCharsets.UTF_8));
      return;
    }
    try (InputStream in = MeshDashboard.class.getResourceAsStream(UI + name)) {
      if (in == null) {
        send(ex, 404, "text/plain", ("not found: " + path + "\n").getBytes(StandardCharsets.UTF_8));
        return;
      }
      ex.getResponseHeaders().set("Cache-Control", "no-cache");
      send(ex, 200, TYPES.get(name.substring(name.lastIndexOf('.') + 1)), in.readAllBytes());
    }
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    try (ex) {
      ex.getResponseHeaders().set("Content-Type", type);
      ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  @Override
  public void close() {
    scraper.close();
  }
}
