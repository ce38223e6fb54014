package dev.bowline.cli.mesh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bowline.cli.mesh.MeshPlan.Instance;
import dev.bowline.cli.mesh.MeshSpec.Port;
import dev.bowline.cli.mesh.MeshSpec.Workload;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Envoy v3 bootstrap of one instance's sidecar, as pilot-agent would write it: Istio's node id
 * and metadata ({@code NAMESPACE}, {@code LABELS}, {@code ISTIO_VERSION}, {@code
 * INTERCEPTION_MODE=NONE}, ...), ADS over gRPC to the control plane, admin on the instance's own
 * address, port 15000.
 */
public final class SidecarBootstrap {
  /** The Istio release whose API and behaviour the config follows (the book's 1.16). */
  public static final String ISTIO_VERSION = "1.16.0";

  /** The static cluster that reaches the control plane's ADS port (pilot-agent's name). */
  public static final String XDS_CLUSTER = "xds-grpc";

  private static final ObjectMapper JSON = new ObjectMapper();

  private SidecarBootstrap() {}

  /** The static cluster that reaches the agent's SDS server on its Unix socket (Istio's name). */
  public static final String SDS_CLUSTER = "sds-grpc";

  /** The bootstrap YAML for {@code instance}, whose control plane serves ADS at {@code xds}. */
  public static String of(MeshPlan plan, Instance instance, String xdsHost, int xdsPort) {
    return of(plan, instance, xdsHost, xdsPort, null);
  }

  /**
   * As {@link #of(MeshPlan, Instance, String, int)}, with Istio's {@code sds-grpc} cluster to the
   * agent's SDS socket {@code sdsSocket} when not null.
   */
  public static String of(
      MeshPlan plan,
      Instance instance,
      String xdsHost,
      int xdsPort,
      java.nio.file.@org.jspecify.annotations.Nullable Path sdsSocket) {
    return of(plan, instance, xdsHost, xdsPort, sdsSocket, Map.of());
  }

  /**
   * As {@link #of(MeshPlan, Instance, String, int, java.nio.file.Path)}, with node metadata from
   * MeshConfig ({@code MESH_ID}, {@code proxyMetadata}'s {@code ISTIO_META_*}) over the runner's.
   */
  public static String of(
      MeshPlan plan,
      Instance instance,
      String xdsHost,
      int xdsPort,
      java.nio.file.@org.jspecify.annotations.Nullable Path sdsSocket,
      Map<String, String> meshMetadata) {
    Workload w = instance.workload();
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("NAMESPACE", w.namespace());
    metadata.put("LABELS", RegistryYaml.labels(plan, w));
    metadata.put("ISTIO_VERSION", ISTIO_VERSION);
    metadata.put("INTERCEPTION_MODE", "NONE");
    metadata.put("INSTANCE_IPS", instance.address());
    metadata.put("NAME", instance.name());
    metadata.put("WORKLOAD_NAME", w.name());
    metadata.put("SERVICE_ACCOUNT", w.serviceAccount());
    metadata.put("CLUSTER_ID", "Kubernetes");
    metadata.put("MESH_ID", "cluster.local");
    metadata.put("POD_PORTS", podPorts(plan, w));
    metadata.putAll(meshMetadata);
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("id", instance.nodeId());
    node.put("cluster", w.app() + "." + w.namespace());
    if (!w.locality().isEmpty()) {
      String[] parts = (w.locality() + "//").split("/", -1);
      Map<String, Object> loc = new LinkedHashMap<>();
      loc.put("region", parts[0]);
      loc.put("zone", parts[1]);
      loc.put("sub_zone", parts[2]);
      node.put("locality", loc);
    }
    node.put("metadata", metadata);
    return "# Sidecar bootstrap of "
        + instance.name()
        + "."
        + w.namespace()
        + ", written by bowline up; run with: bowline proxy -c FILE\n"
        + Yaml.write(bootstrap(node, instance.address(), xdsHost, xdsPort, sdsSocket));
  }

  /**
   * The bootstrap YAML of a gateway proxy, as pilot-agent writes it for {@code istio-proxy router}:
   * node id {@code router~...}, the gateway's labels (which Gateway selectors match), {@code
   * INTERCEPTION_MODE=NONE} (nothing redirects to it: its listeners bind its own address).
   */
  public static String gateway(MeshSpec.Gateway g, String xdsHost, int xdsPort) {
    return gateway(g, xdsHost, xdsPort, null);
  }

  /** As {@link #gateway(MeshSpec.Gateway, String, int)}, with the agent's SDS socket if any. */
  public static String gateway(
      MeshSpec.Gateway g,
      String xdsHost,
      int xdsPort,
      java.nio.file.@org.jspecify.annotations.Nullable Path sdsSocket) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("NAMESPACE", g.namespace());
    metadata.put("LABELS", new TreeMap<>(g.labels()));
    metadata.put("ISTIO_VERSION", ISTIO_VERSION);
    metadata.put("INTERCEPTION_MODE", "NONE");
    metadata.put("INSTANCE_IPS", g.address());
    metadata.put("NAME", g.instanceName());
    metadata.put("WORKLOAD_NAME", g.name());
    metadata.put("SERVICE_ACCOUNT", g.serviceAccount());
    metadata.put("CLUSTER_ID", "Kubernetes");
    metadata.put("MESH_ID", "cluster.local");
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("id", g.nodeId());
    node.put("cluster", g.name() + "." + g.namespace());
    node.put("metadata", metadata);
    return "# Gateway bootstrap of "
        + g.name()
        + "."
        + g.namespace()
        + ", written by bowline up; run with: bowline proxy -c FILE\n"
        + Yaml.write(bootstrap(node, g.address(), xdsHost, xdsPort, sdsSocket));
  }

  private static Map<String, Object> bootstrap(
      Map<String, Object> node,
      String adminAddress,
      String xdsHost,
      int xdsPort,
      java.nio.file.@org.jspecify.annotations.Nullable Path sdsSocket) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("node", node);
    root.put("admin", map("address", socket(adminAddress, 15000)));
    Map<String, Object> ads = new LinkedHashMap<>();
    ads.put("api_type", "GRPC");
    ads.put("transport_api_version", "V3");
    ads.put("grpc_services", List.of(map("envoy_grpc", map("cluster_name", XDS_CLUSTER))));
    Map<String, Object> dynamic = new LinkedHashMap<>();
    dynamic.put("ads_config", ads);
    dynamic.put("lds_config", map("ads", map(), "resource_api_version", "V3"));
    dynamic.put("cds_config", map("ads", map(), "resource_api_version", "V3"));
    root.put("dynamic_resources", dynamic);
    Map<String, Object> xds = new LinkedHashMap<>();
    xds.put("name", XDS_CLUSTER);
    xds.put("type", "STATIC");
    xds.put("connect_timeout", "1s");
    Map<String, Object> http2 = new LinkedHashMap<>();
    http2.put(
        "@type", "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
    http2.put("explicit_http_config", map("http2_protocol_options", map()));
    xds.put(
        "typed_extension_protocol_options",
        map("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", http2));
    xds.put(
        "load_assignment",
        map(
            "cluster_name",
            XDS_CLUSTER,
            "endpoints",
            List.of(
                map(
                    "lb_endpoints",
                    List.of(map("endpoint", map("address", socket(xdsHost, xdsPort))))))));
    List<Object> clusters = new ArrayList<>(List.of(xds, prometheusCluster(adminAddress)));
    if (sdsSocket != null) {
      Map<String, Object> sds = new LinkedHashMap<>();
      sds.put("name", SDS_CLUSTER);
      sds.put("type", "STATIC");
      sds.put("connect_timeout", "1s");
      sds.put(
          "typed_extension_protocol_options",
          map("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", http2));
      sds.put(
          "load_assignment",
          map(
              "cluster_name",
              SDS_CLUSTER,
              "endpoints",
              List.of(
                  map(
                      "lb_endpoints",
                      List.of(
                          map(
                              "endpoint",
                              map("address", map("pipe", map("path", sdsSocket.toString())))))))));
      clusters.add(sds);
    }
    root.put(
        "static_resources",
        map("listeners", List.of(prometheusListener(adminAddress)), "clusters", clusters));
    return root;
  }

  /**
   * Istio's bootstrap listener on :15090: {@code /stats/prometheus} forwarded to the admin server,
   * so Prometheus scrapes the sidecar's metrics (Istio's standard ones included) on Istio's port
   * without reaching the rest of the admin API.
   */
  private static Map<String, Object> prometheusListener(String address) {
    Map<String, Object> hcm = new LinkedHashMap<>();
    hcm.put(
        "@type",
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
    hcm.put("codec_type", "AUTO");
    hcm.put("stat_prefix", "stats");
    hcm.put(
        "route_config",
        map(
            "virtual_hosts",
            List.of(
                map(
                    "name",
                    "backend",
                    "domains",
                    List.of("*"),
                    "routes",
                    List.of(
                        map(
                            "match",
                            map("prefix", "/stats/prometheus"),
                            "route",
                            map("cluster", "prometheus_stats")))))));
    hcm.put(
        "http_filters",
        List.of(
            map(
                "name",
                "envoy.filters.http.router",
                "typed_config",
                map(
                    "@type",
                    "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"))));
    return map(
        "name",
        "0.0.0.0_15090",
        "address",
        socket(address, 15090),
        "filter_chains",
        List.of(
            map(
                "filters",
                List.of(
                    map(
                        "name",
                        "envoy.filters.network.http_connection_manager",
                        "typed_config",
                        hcm)))));
  }

  private static Map<String, Object> prometheusCluster(String address) {
    return map(
        "name",
        "prometheus_stats",
        "type",
        "STATIC",
        "connect_timeout",
        "0.250s",
        "load_assignment",
        map(
            "cluster_name",
            "prometheus_stats",
            "endpoints",
            List.of(
                map(
                    "lb_endpoints",
                    List.of(map("endpoint", map("address", socket(address, 15000))))))));
  }

  /**
   * The app's ports as Istio's {@code POD_PORTS} metadata (a JSON string of container ports): how
   * the control plane learns where the inbound listener forwards to.
   */
  static String podPorts(MeshPlan plan, Workload w) {
    List<Map<String, Object>> ports = new ArrayList<>();
    for (Port p : w.ports()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("name", p.name());
      e.put("containerPort", plan.appPort(p));
      e.put("protocol", "TCP");
      ports.add(e);
    }
    try {
      return JSON.writeValueAsString(ports);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A map that keeps the order of {@code keysAndValues}, so written files are stable. */
  private static Map<String, Object> map(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  private static Map<String, Object> socket(String address, int port) {
    return map("socket_address", map("address", address, "port_value", port));
  }

  /** The environment of an app behind its sidecar: outbound calls go through port 15001. */
  public static Map<String, String> appEnv(Instance instance) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HTTP_PROXY", "http://" + instance.address() + ":15001");
    // Calls to loopback admin endpoints (its own sidecar's admin, the control plane) go direct.
    env.put("NO_PROXY", "localhost,127.0.0.1," + instance.address());
    return env;
  }
}
