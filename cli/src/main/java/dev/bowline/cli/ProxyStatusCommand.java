package dev.bowline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code bowline proxy-status}: each connected proxy's xDS sync state per type, like {@code
 * istioctl proxy-status}, plus the streams the control plane refused (bad node ids).
 */
@Command(
    name = "proxy-status",
    mixinStandardHelpOptions = true,
    description = "Show each proxy's xDS sync state (SYNCED, STALE, NACK, NOT SENT) per type.")
final class ProxyStatusCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ControlPlaneUrl controlPlane;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    JsonNode syncz;
    try {
      syncz = new ControlPlaneClient(controlPlane.url).syncz();
    } catch (ControlPlaneClient.Failure e) {
      spec.commandLine().getErr().println("bowline proxy-status: " + e.getMessage());
      return 1;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "PROTOCOL", "VERSION"});
    for (JsonNode p : syncz.path("proxies")) {
      String[] id = p.path("proxy").asText().split("~");
      rows.add(
          new String[] {
            id.length == 4 ? id[2] : p.path("proxy").asText(),
            p.path("cluster_id").asText(),
            state(p, "cds"),
            state(p, "lds"),
            state(p, "eds"),
            state(p, "rds"),
            p.path("protocol").asText(),
            p.path("istio_version").asText()
          });
    }
    Table.print(out, rows);
    if (!syncz.path("rejected").isEmpty()) {
      out.println();
      out.println("REFUSED STREAMS (newest last):");
      for (JsonNode r : syncz.path("rejected")) {
        out.println(
            "  "
                + r.path("at").asText()
                + " "
                + r.path("peer").asText()
                + " node=\""
                + r.path("node_id").asText()
                + "\": "
                + r.path("error").asText());
      }
    }
    out.flush();
    return 0;
  }

  private static String state(JsonNode proxy, String type) {
    JsonNode t = proxy.path("types").path(type);
    if (t.isMissingNode()) {
      return "IGNORED";
    }
    String s = t.path("status").asText().replace('_', ' ');
    return t.path("missing").isEmpty() ? s : s + " (" + t.path("missing").size() + " missing)";
  }
}
