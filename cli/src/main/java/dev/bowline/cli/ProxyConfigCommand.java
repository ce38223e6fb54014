package dev.bowline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code bowline proxy-config cluster|listener|route|endpoint PROXY_ID [-o json]}: what the control
 * plane serves one proxy, from its {@code /debug/config_dump}, like {@code istioctl proxy-config}.
 */
@Command(
    name = "proxy-config",
    mixinStandardHelpOptions = true,
    description =
        "Show a proxy's clusters, listeners, routes or endpoints as the control plane serves them.")
final class ProxyConfigCommand implements Callable<Integer> {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** What to show. */
  enum Kind {
    cluster("ClustersConfigDump"),
    listener("ListenersConfigDump"),
    route("RoutesConfigDump"),
    endpoint("EndpointsConfigDump");

    final String dump;

    Kind(String dump) {
      this.dump = dump;
    }
  }

  @Spec CommandSpec spec;

  @Parameters(index = "0", description = "One of: ${COMPLETION-CANDIDATES}.")
  Kind kind = Kind.cluster;

  @Parameters(
      index = "1",
      paramLabel = "PROXY_ID",
      description = "The proxy's node id (see proxy-status).")
  String proxyId = "";

  @Option(
      names = {"-o", "--output"},
      defaultValue = "short",
      description = "short or json (default: ${DEFAULT-VALUE}).")
  String output = "short";

  @Mixin ControlPlaneUrl controlPlane;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!output.equals("short") && !output.equals("json")) {
      spec.commandLine()
          .getErr()
          .println("bowline proxy-config: -o must be short or json, not '" + output + "'");
      return 2;
    }
    JsonNode dump;
    try {
      dump = new ControlPlaneClient(controlPlane.url).configDump(proxyId);
    } catch (ControlPlaneClient.Failure e) {
      spec.commandLine().getErr().println("bowline proxy-config: " + e.getMessage());
      return 1;
    }
    JsonNode section = JSON.createObjectNode();
    for (JsonNode c : dump.path("configs")) {
      if (c.path("@type").asText().endsWith("." + kind.dump)) {
        section = c;
      }
    }
    List<JsonNode> items = new ArrayList<>();
    switch (kind) {
      case cluster ->
          section.path("dynamicActiveClusters").forEach(n -> items.add(n.path("cluster")));
      case listener ->
          section
              .path("dynamicListeners")
              .forEach(n -> items.add(n.path("activeState").path("listener")));
      case route ->
          section.path("dynamicRouteConfigs").forEach(n -> items.add(n.path("routeConfig")));
      case endpoint ->
          section.path("dynamicEndpointConfigs").forEach(n -> items.add(n.path("endpointConfig")));
    }
    if (output.equals("json")) {
      ArrayNode arr = JSON.createArrayNode();
      items.forEach(arr::add);
      out.println(JSON.writeValueAsString(arr));
      out.flush();
      return 0;
    }
    List<String[]> rows = new ArrayList<>();
    switch (kind) {
      case cluster -> {
        rows.add(new String[] {"SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE"});
        for (JsonNode c : items) {
          String name = c.path("name").asText();
          String[] p = name.split("\\|", -1);
          String type = c.path("type").asText("EDS");
          rows.add(
              p.length == 4
                  ? new String[] {p[3], p[1], p[2], p[0], type}
                  : new String[] {name, "-", "-", "-", type});
        }
      }
      case listener -> {
        rows.add(new String[] {"NAME", "ADDRESS", "PORT", "DESTINATIONS"});
        for (JsonNode l : items) {
          JsonNode sa = l.path("address").path("socketAddress");
          rows.add(
              new String[] {
                l.path("name").asText(),
                sa.isMissingNode() ? "-" : sa.path("address").asText(),
                sa.isMissingNode() ? "-" : sa.path("portValue").asText(),
                destinations(l)
              });
        }
      }
      case route -> {
        rows.add(new String[] {"NAME", "VHOST NAME", "DOMAINS", "MATCH"});
        for (JsonNode r : items) {
          for (JsonNode vh : r.path("virtualHosts")) {
            JsonNode firstMatch = vh.path("routes").path(0).path("match");
            String match =
                firstMatch.has("prefix")
                    ? firstMatch.path("prefix").asText() + "*"
                    : firstMatch.path("path").asText("-");
            rows.add(
                new String[] {
                  r.path("name").asText(),
                  vh.path("name").asText(),
                  vh.path("domains").path(0).asText()
                      + (vh.path("domains").size() > 1
                          ? " +" + (vh.path("domains").size() - 1) + " more"
                          : ""),
                  match
                });
          }
        }
      }
      case endpoint -> {
        rows.add(new String[] {"ENDPOINT", "STATUS", "LOCALITY", "CLUSTER"});
        for (JsonNode cla : items) {
          for (JsonNode loc : cla.path("endpoints")) {
            String locality =
                loc.path("locality").path("region").asText()
                    + "/"
                    + loc.path("locality").path("zone").asText();
            for (JsonNode e : loc.path("lbEndpoints")) {
              JsonNode sa = e.path("endpoint").path("address").path("socketAddress");
              rows.add(
                  new String[] {
                    sa.path("address").asText() + ":" + sa.path("portValue").asText(),
                    e.path("healthStatus").asText("UNKNOWN"),
                    locality,
                    cla.path("clusterName").asText()
                  });
            }
          }
        }
      }
    }
    Table.print(out, rows);
    out.flush();
    return 0;
  }

  private static String destinations(JsonNode listener) {
    if (listener.has("apiListener")) {
      return "Route: "
          + listener
              .path("apiListener")
              .path("apiListener")
              .path("rds")
              .path("routeConfigName")
              .asText();
    }
    List<String> out = new ArrayList<>();
    for (JsonNode chain : listener.path("filterChains")) {
      for (JsonNode f : chain.path("filters")) {
        JsonNode tc = f.path("typedConfig");
        if (tc.has("rds")) {
          out.add("Route: " + tc.path("rds").path("routeConfigName").asText());
        } else if (tc.has("routeConfig")) {
          out.add("Inline Route: " + tc.path("routeConfig").path("name").asText());
        } else if (tc.has("cluster")) {
          out.add("Cluster: " + tc.path("cluster").asText());
        }
      }
    }
    return out.isEmpty() ? "-" : String.join(", ", out);
  }
}
