package dev.bowline.samples.weather;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * Sends every outbound call through one HTTP proxy (the workload's sidecar, as {@code HTTP_PROXY}
 * names it), except hosts listed in {@code NO_PROXY}: {@code *} for all, an exact host, or a domain
 * whose subdomains also match ({@code weather} or {@code .weather} matches {@code
 * forecast.weather}). The JDK client then writes absolute-form request lines, as a proxy expects.
 */
final class MeshProxySelector extends ProxySelector {

  private final Proxy proxy;
  private final List<String> noProxy;

  MeshProxySelector(InetSocketAddress proxyAddress, List<String> noProxy) {
    this.proxy = new Proxy(Proxy.Type.HTTP, proxyAddress);
    this.noProxy = List.copyOf(noProxy);
  }

  @Override
  public List<Proxy> select(URI uri) {
    String host = uri.getHost();
    return host != null && bypasses(host.toLowerCase(Locale.ROOT))
        ? List.of(Proxy.NO_PROXY)
        : List.of(proxy);
  }

  boolean bypasses(String host) {
    for (String entry : noProxy) {
      if (entry.equals("*") || entry.equals(host)) {
        return true;
      }
      String domain = entry.startsWith(".") ? entry.substring(1) : entry;
      if (host.equals(domain) || host.endsWith("." + domain)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
    // Nothing to learn: there is only one proxy, and the caller sees the failure.
  }
}
