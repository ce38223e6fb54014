package dev.bowline.cli.mesh;

import dev.bowline.cli.mesh.MeshPlan.Instance;
import dev.bowline.cli.mesh.MeshSpec.Port;
import dev.bowline.cli.mesh.MeshSpec.Workload;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local registry file the control plane reads ({@code bowline control-plane --registry FILE}),
 * in the format of the control plane's {@code RegistryFile}: {@code services} (namespace, name,
 * ports, selector) and {@code workloads} (namespace, name, labels, address, ports, serviceAccount,
 * locality).
 *
 * <p>One service per {@code namespace/app}, selecting {@code app: <app>}; one registry workload per
 * instance, named {@code <workload>-<i>}. The endpoint port is the service port: in local mode the
 * instance's sidecar takes the service port on the instance's address and forwards to the app on
 * its target port, so the mesh reaches every instance at {@code 127.0.0.N:<service port>}.
 */
public final class RegistryYaml {
  private RegistryYaml() {}

  /**
   * A workload's labels; behind a sidecar also {@code security.istio.io/tlsMode: istio}, the label
   * Istio's injector adds and auto mTLS keys on.
   */
  static java.util.SortedMap<String, String> labels(MeshPlan plan, Workload w) {
    java.util.SortedMap<String, String> labels = new java.util.TreeMap<>(w.labels());
    if (plan.meshed()) {
      labels.putIfAbsent("security.istio.io/tlsMode", "istio");
    }
    return labels;
  }

  /** The registry file for {@code plan}, every instance healthy. */
  public static String of(MeshPlan plan) {
    return of(plan, java.util.Set.of());
  }

  /**
   * The registry file for {@code plan}; the instances named in {@code unhealthy} (their {@link
   * Instance#name()}) carry {@code health: UNHEALTHY}, so the control plane drops their endpoints.
   */
  public static String of(MeshPlan plan, java.util.Set<String> unhealthy) {
    return of(plan, unhealthy, null);
  }

  /**
   * As {@link #of(MeshPlan, java.util.Set)}; with sidecars and a {@code collectorAddress}, also the
   * trace collector service at that address ({@link MeshTracing}).
   */
  public static String of(
      MeshPlan plan,
      java.util.Set<String> unhealthy,
      @org.jspecify.annotations.Nullable String collectorAddress) {
    Map<String, Object> services = new LinkedHashMap<>();
    for (Workload w : plan.spec().workloads()) {
      services.computeIfAbsent(
          w.namespace() + "/" + w.app(),
          k -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("namespace", w.namespace());
            s.put("name", w.app());
            List<Object> ports = new ArrayList<>();
            for (Port p : w.ports()) {
              Map<String, Object> port = new LinkedHashMap<>();
              port.put("name", p.name());
              port.put("port", p.number());
              ports.add(port);
            }
            s.put("ports", ports);
            s.put("selector", Map.of("app", w.app()));
            return s;
          });
    }
    List<Object> workloads = new ArrayList<>();
    for (Instance i : plan.instances()) {
      Workload w = i.workload();
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("namespace", w.namespace());
      e.put("name", i.name());
      e.put("labels", labels(plan, w));
      e.put("address", i.address());
      e.put("serviceAccount", w.serviceAccount());
      if (!w.locality().isEmpty()) {
        e.put("locality", w.locality());
      }
      if (unhealthy.contains(i.name())) {
        e.put("health", "UNHEALTHY");
      }
      workloads.add(e);
    }
    // Gateways are services too (Istio's istio-ingressgateway Service): the control plane maps a
    // Gateway server's port (80) to the gateway's listening port (targetPort 8080) through it.
    for (MeshSpec.Gateway g :
        plan.meshed() ? plan.spec().gateways() : List.<MeshSpec.Gateway>of()) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("namespace", g.namespace());
      s.put("name", g.name());
      List<Object> ports = new ArrayList<>();
      for (Port p : g.ports()) {
        Map<String, Object> port = new LinkedHashMap<>();
        port.put("name", p.name());
        port.put("port", p.number());
        port.put("targetPort", MeshSpec.Gateway.listenPort(p));
        ports.add(port);
      }
      s.put("ports", ports);
      s.put("selector", Map.of("app", g.labels().get("app")));
      services.putIfAbsent(g.namespace() + "/" + g.name(), s);
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("namespace", g.namespace());
      e.put("name", g.instanceName());
      e.put("labels", new java.util.TreeMap<>(g.labels()));
      e.put("address", g.address());
      e.put("serviceAccount", g.name() + "-service-account");
      workloads.add(e);
    }
    if (plan.meshed() && collectorAddress != null) {
      services.putIfAbsent(MeshTracing.NAMESPACE + "/" + MeshTracing.NAME, MeshTracing.service());
      workloads.add(MeshTracing.workload(collectorAddress));
    }
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("services", new ArrayList<>(services.values()));
    root.put("workloads", workloads);
    return "# Written by bowline up from "
        + plan.spec().source().getFileName()
        + "; read by bowline control-plane --registry.\n"
        + Yaml.write(root);
  }
}
