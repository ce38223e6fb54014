package dev.bowline.controlplane.registry;

/**
 * Istio's service hostnames: {@code name.namespace.svc.DOMAIN}, and the short names a workload in a
 * namespace may use for them.
 */
public final class Hostnames {
  private Hostnames() {}

  /**
   * {@code forecast}, {@code weather}, {@code cluster.local} give {@code
   * forecast.weather.svc.cluster.local}.
   */
  public static String fqdn(String name, String namespace, String domainSuffix) {
    return name + "." + namespace + ".svc." + domainSuffix;
  }

  /**
   * Resolves a name as Kubernetes DNS would for a client in {@code namespace}: {@code forecast}
   * means {@code forecast.<namespace>.svc.<domain>}, {@code forecast.weather} means {@code
   * forecast.weather.svc.<domain>}, {@code forecast.weather.svc} gets the domain, and anything
   * longer is taken as already qualified. A {@code :port} suffix is kept.
   */
  public static String resolve(String name, String namespace, String domainSuffix) {
    String host = name;
    String port = "";
    int colon = name.lastIndexOf(':');
    if (colon > 0) {
      host = name.substring(0, colon);
      port = name.substring(colon);
    }
    if (host.endsWith(".")) {
      return host.substring(0, host.length() - 1) + port;
    }
    String[] labels = host.split("\\.");
    String resolved =
        switch (labels.length) {
          case 1 -> fqdn(host, namespace, domainSuffix);
          case 2 -> fqdn(labels[0], labels[1], domainSuffix);
          case 3 -> labels[2].equals("svc") ? host + "." + domainSuffix : host;
          default -> host;
        };
    return resolved + port;
  }
}
