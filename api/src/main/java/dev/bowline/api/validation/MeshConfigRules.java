package dev.bowline.api.validation;

import dev.bowline.api.mesh.ExtensionProvider;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.mesh.MeshTypes;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** MeshConfig ({@code mesh.yaml}): ports, durations, names and providers. */
final class MeshConfigRules {
  private MeshConfigRules() {}

  static void check(Report r, MeshConfig m) {
    Checks.port(r, "proxyListenPort", m.proxyListenPort());
    Checks.port(r, "proxyInboundListenPort", m.proxyInboundListenPort());
    Checks.port(r, "proxyHttpPort", m.proxyHttpPort());
    Checks.duration(r, "connectTimeout", m.connectTimeout());
    if (m.protocolDetectionTimeout() != null && !m.protocolDetectionTimeout().isZero()) {
      // 0s turns protocol detection's timeout off.
      Checks.duration(r, "protocolDetectionTimeout", m.protocolDetectionTimeout());
    }
    Checks.duration(r, "dnsRefreshRate", m.dnsRefreshRate());
    if (m.rootNamespace() != null && !Checks.isDns1123Label(m.rootNamespace())) {
      r.error("rootNamespace", "\"" + m.rootNamespace() + "\" is not a valid namespace");
    }
    trustDomain(r, "trustDomain", m.trustDomain());
    for (int i = 0; i < m.trustDomainAliases().size(); i++) {
      trustDomain(r, "trustDomainAliases[" + i + "]", m.trustDomainAliases().get(i));
    }
    Checks.exportTo(r, "defaultServiceExportTo", m.defaultServiceExportTo());
    Checks.exportTo(r, "defaultVirtualServiceExportTo", m.defaultVirtualServiceExportTo());
    Checks.exportTo(r, "defaultDestinationRuleExportTo", m.defaultDestinationRuleExportTo());
    TrafficPolicyRules.locality(r, "localityLbSetting", m.localityLbSetting());
    Set<String> providers = new HashSet<>();
    List<ExtensionProvider> ext = m.extensionProviders();
    for (int i = 0; i < ext.size(); i++) {
      String at = "extensionProviders[" + i + "]";
      String n = ext.get(i).name();
      if (n == null || n.isEmpty()) {
        r.error(at + ".name", "extension provider name is required");
      } else if (!providers.add(n)) {
        r.error(at + ".name", "extension provider name \"" + n + "\" is not unique");
      }
      ProviderRules.provider(r, at, ext.get(i));
    }
    if (m.ca() != null) {
      if (m.ca().address() == null || m.ca().address().isEmpty()) {
        r.error("ca.address", "CA address is required");
      } else {
        hostPort(r, "ca.address", m.ca().address());
      }
      Checks.duration(r, "ca.requestTimeout", m.ca().requestTimeout());
      TrafficPolicyRules.tls(r, "ca.tlsSettings", m.ca().tlsSettings());
    }
    if (m.tcpKeepalive() != null) {
      Checks.duration(r, "tcpKeepalive.time", m.tcpKeepalive().time());
      Checks.duration(r, "tcpKeepalive.interval", m.tcpKeepalive().interval());
      Checks.nonNegative(r, "tcpKeepalive.probes", m.tcpKeepalive().probes());
    }
    for (int i = 0; i < m.serviceSettings().size(); i++) {
      var hosts = m.serviceSettings().get(i).hosts();
      for (int j = 0; j < hosts.size(); j++) {
        Checks.wildcardDomain(r, "serviceSettings[" + i + "].hosts[" + j + "]", hosts.get(j));
      }
    }
    for (int i = 0; i < m.caCertificates().size(); i++) {
      ProviderRules.certificate(r, "caCertificates[" + i + "]", m.caCertificates().get(i));
    }
    for (int i = 0; i < m.discoverySelectors().size(); i++) {
      ProviderRules.selector(r, "discoverySelectors[" + i + "]", m.discoverySelectors().get(i));
    }
    for (int i = 0; i < m.configSources().size(); i++) {
      var c = m.configSources().get(i);
      String at = "configSources[" + i + "]";
      if (c.address() == null || c.address().isEmpty()) {
        r.error(at + ".address", "config source address is required");
      }
      TrafficPolicyRules.tls(r, at + ".tlsSettings", c.tlsSettings());
    }
    VirtualServiceRules.retries(r, "defaultHttpRetryPolicy", m.defaultHttpRetryPolicy());
    for (int i = 0; i < m.serviceScopeConfigs().size(); i++) {
      var c = m.serviceScopeConfigs().get(i);
      String at = "serviceScopeConfigs[" + i + "]";
      if (c.servicesSelector() != null) {
        ProviderRules.selector(r, at + ".servicesSelector", c.servicesSelector());
      }
    }
    var p = m.defaultConfig();
    if (p != null) {
      seconds(r, "defaultConfig.drainDuration", p.drainDuration());
      seconds(r, "defaultConfig.terminationDrainDuration", p.terminationDrainDuration());
      Checks.port(r, "defaultConfig.proxyAdminPort", p.proxyAdminPort());
      Checks.port(r, "defaultConfig.statusPort", p.statusPort());
      Checks.nonNegative(r, "defaultConfig.concurrency", p.concurrency());
      Checks.nonNegative(r, "defaultConfig.statNameLength", p.statNameLength());
      if (p.discoveryAddress() != null) {
        hostPort(r, "defaultConfig.discoveryAddress", p.discoveryAddress());
      }
      WorkloadRules.probe(r, "defaultConfig.readinessProbe", p.readinessProbe());
      ExtensionRules.image(r, "defaultConfig.image", p.image());
      if (p.tracing() != null) {
        ProviderRules.tracing(r, "defaultConfig.tracing", p.tracing());
      }
      remoteService(r, "defaultConfig.envoyMetricsService", p.envoyMetricsService());
      remoteService(r, "defaultConfig.envoyAccessLogService", p.envoyAccessLogService());
      if (p.gatewayTopology() != null) {
        Checks.nonNegative(
            r,
            "defaultConfig.gatewayTopology.numTrustedProxies",
            p.gatewayTopology().numTrustedProxies());
      }
      privateKeyProvider(r, "defaultConfig.privateKeyProvider", p.privateKeyProvider());
      Checks.duration(r, "defaultConfig.fileFlushInterval", p.fileFlushInterval());
      Checks.nonNegative(r, "defaultConfig.fileFlushMinSizeKb", p.fileFlushMinSizeKb());
      for (int i = 0; i < p.extraStatTags().size(); i++) {
        if (p.extraStatTags().get(i) == null || p.extraStatTags().get(i).isBlank()) {
          r.error("defaultConfig.extraStatTags[" + i + "]", "tag name must not be empty");
        }
      }
      if (p.proxyStatsMatcher() != null) {
        var regexps = p.proxyStatsMatcher().inclusionRegexps();
        for (int i = 0; i < regexps.size(); i++) {
          Checks.regex(
              r, "defaultConfig.proxyStatsMatcher.inclusionRegexps[" + i + "]", regexps.get(i));
        }
      }
    }
  }

  /** A gRPC service the proxy streams to: {@code host:port} and its client TLS. */
  private static void remoteService(
      Report r, String path, MeshTypes.@Nullable RemoteService service) {
    if (service == null) {
      return;
    }
    if (service.address() == null || service.address().isEmpty()) {
      r.error(path + ".address", "address is required");
    } else {
      hostPort(r, path + ".address", service.address());
    }
    TrafficPolicyRules.tls(r, path + ".tlsSettings", service.tlsSettings());
    if (service.tcpKeepalive() != null) {
      Checks.duration(r, path + ".tcpKeepalive.time", service.tcpKeepalive().time());
      Checks.duration(r, path + ".tcpKeepalive.interval", service.tcpKeepalive().interval());
      Checks.nonNegative(r, path + ".tcpKeepalive.probes", service.tcpKeepalive().probes());
    }
  }

  /** One provider, with a positive poll delay (Istio's rule). */
  private static void privateKeyProvider(
      Report r, String path, MeshTypes.@Nullable PrivateKeyProvider provider) {
    if (provider == null) {
      return;
    }
    var set = new java.util.ArrayList<String>();
    if (provider.cryptomb() != null) set.add("cryptomb");
    if (provider.qat() != null) set.add("qat");
    if (set.size() != 1) {
      r.error(
          path,
          set.isEmpty()
              ? "one of cryptomb or qat is required"
              : "only one of cryptomb or qat may be set");
      return;
    }
    var chosen = provider.cryptomb() != null ? provider.cryptomb() : provider.qat();
    String at = path + "." + set.get(0) + ".pollDelay";
    if (chosen.pollDelay() == null) {
      r.error(at, "pollDelay is required");
    } else if (chosen.pollDelay().isZero() || chosen.pollDelay().isNegative()) {
      r.error(at, "pollDelay must be positive");
    } else {
      Checks.duration(r, at, chosen.pollDelay());
    }
  }

  /** Drain durations: at least 1 ms and whole seconds (Istio's rule). */
  private static void seconds(Report r, String path, Duration d) {
    if (d == null) {
      return;
    }
    Checks.duration(r, path, d);
    if (!d.isNegative() && d.compareTo(Duration.ofMillis(1)) >= 0 && d.getNano() != 0) {
      r.error(path, "only whole seconds are supported");
    }
  }

  private static void trustDomain(Report r, String path, String domain) {
    if (domain == null) {
      return;
    }
    if (domain.isEmpty() || Checks.wildcardDomainProblem(domain) != null || domain.contains("*")) {
      r.error(path, "\"" + domain + "\" is not a valid trust domain");
    }
  }

  static void hostPort(Report r, String path, String address) {
    int colon = address.lastIndexOf(':');
    if (colon <= 0) {
      r.error(path, "\"" + address + "\" must be host:port");
      return;
    }
    String host = address.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (!Checks.isIp(host) && Checks.wildcardDomainProblem(host) != null) {
      r.error(path, "\"" + host + "\" is not a valid host name or IP address");
    }
    try {
      Checks.port(r, path, Integer.parseInt(address.substring(colon + 1)));
    } catch (NumberFormatException e) {
      r.error(path, "port \"" + address.substring(colon + 1) + "\" is not a number");
    }
  }
}
