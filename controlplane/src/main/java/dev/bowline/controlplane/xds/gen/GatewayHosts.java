package dev.bowline.controlplane.xds.gen;

import dev.bowline.controlplane.model.GatewayServer;
import dev.bowline.controlplane.model.GatewayVirtualService;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Which hosts of a VirtualService a Gateway server serves, as istiod matches them: a server host is
 * {@code namespace/host} ({@code *} any namespace, {@code .} the Gateway's own), and a
 * VirtualService host and a server host meet in the more specific of the two ({@code *} and {@code
 * weather.example.com} give {@code weather.example.com}; {@code *.example.com} and {@code
 * a.example.com} give {@code a.example.com}; unrelated hosts give nothing).
 */
final class GatewayHosts {
  private GatewayHosts() {}

  /** The hosts {@code server} serves of {@code vs}, each once, in the VirtualService's order. */
  static List<String> matching(GatewayServer server, GatewayVirtualService vs) {
    List<String> out = new ArrayList<>();
    for (String vsHost : vs.hosts()) {
      for (String serverHost : server.hosts()) {
        int slash = serverHost.indexOf('/');
        String ns = serverHost.substring(0, slash);
        String host = serverHost.substring(slash + 1);
        boolean nsOk =
            ns.equals("*")
                || (ns.equals(".") && vs.namespace().equals(server.namespace()))
                || ns.equals(vs.namespace());
        String met = nsOk ? intersect(host, vsHost) : null;
        if (met != null && !out.contains(met)) {
          out.add(met);
        }
      }
    }
    return out;
  }

  /** The more specific of two hosts if one covers the other, else null. */
  static @Nullable String intersect(String a, String b) {
    if (covers(a, b)) {
      return b;
    }
    if (covers(b, a)) {
      return a;
    }
    return null;
  }

  /** Whether the pattern {@code wide} matches every name {@code narrow} matches. */
  private static boolean covers(String wide, String narrow) {
    if (wide.equals("*") || wide.equals(narrow)) {
      return true;
    }
    if (wide.startsWith("*.")) {
      String suffix = wide.substring(1);
      return narrow.endsWith(suffix) && narrow.length() > suffix.length();
    }
    return false;
  }
}
