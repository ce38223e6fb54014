package dev.bowline.api.validation;

import dev.bowline.api.model.Gateway;
import dev.bowline.api.model.ServerTLSSettings;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** Gateway: servers, ports, hosts with namespace/ prefixes, TLS per mode. */
final class GatewayRules {
  private GatewayRules() {}

  static void check(Report r, Gateway gw) {
    if (gw.servers().isEmpty()) {
      r.error("spec.servers", "gateway must have at least one server");
    }
    Checks.labels(r, "spec.selector", gw.selector());
    Set<String> names = new HashSet<>();
    for (int i = 0; i < gw.servers().size(); i++) {
      var s = gw.servers().get(i);
      String at = "spec.servers[" + i + "]";
      if (s.name() != null && !s.name().isEmpty() && !names.add(s.name())) {
        r.error(at + ".name", "server name \"" + s.name() + "\" is not unique");
      }
      if (s.hosts().isEmpty()) {
        r.error(at + ".hosts", "server must have at least one host");
      }
      for (int j = 0; j < s.hosts().size(); j++) {
        namespacedHost(r, at + ".hosts[" + j + "]", s.hosts().get(j));
      }
      String protocol = "";
      if (s.port() == null) {
        r.error(at + ".port", "server port is required");
      } else {
        if (s.port().number() == null) {
          r.error(at + ".port.number", "port number is required");
        }
        Checks.port(r, at + ".port.number", s.port().number());
        if (s.port().protocol() == null || s.port().protocol().isEmpty()) {
          r.error(at + ".port.protocol", "protocol is required");
        } else {
          Checks.protocol(r, at + ".port.protocol", s.port().protocol());
          protocol = s.port().protocol().toUpperCase(Locale.ROOT);
        }
        if (s.port().name() == null || s.port().name().isEmpty()) {
          r.error(at + ".port.name", "port name is required");
        }
      }
      if (s.bind() != null && !s.bind().startsWith("unix://") && !Checks.isIp(s.bind())) {
        r.error(at + ".bind", "\"" + s.bind() + "\" is not an IP address or unix:// socket");
      }
      tls(r, at + ".tls", s.tls(), protocol);
    }
  }

  /** {@code [namespace/]host}, namespace being {@code *}, {@code .} or a DNS label. */
  static void namespacedHost(Report r, String at, String host) {
    String dns = host;
    int slash = host.indexOf('/');
    if (slash >= 0) {
      String ns = host.substring(0, slash);
      dns = host.substring(slash + 1);
      if (!ns.equals("*") && !ns.equals(".") && !Checks.isDns1123Label(ns)) {
        r.error(
            at,
            "namespace \"" + ns + "\" in host \"" + host + "\" must be *, . or a valid namespace");
        return;
      }
    }
    if (dns.contains("/")) {
      r.error(at, "host \"" + host + "\" must be of the form namespace/dnsName");
      return;
    }
    if (!Checks.isIp(dns)) {
      Checks.wildcardDomain(r, at, dns);
    }
  }

  private static void tls(
      Report r,
      String at,
      @org.jspecify.annotations.Nullable ServerTLSSettings tls,
      String protocol) {
    boolean tlsProtocol = protocol.equals("HTTPS") || protocol.equals("TLS");
    if (tls == null) {
      if (tlsProtocol) {
        r.error(at, "server with protocol " + protocol + " must have TLS settings");
      }
      return;
    }
    boolean onlyRedirect =
        tls.mode() == null && tls.credentialName() == null && tls.serverCertificate() == null;
    if (!tlsProtocol && !onlyRedirect && !protocol.isEmpty()) {
      r.error(
          at,
          "server with protocol "
              + protocol
              + " cannot have TLS settings other than httpsRedirect");
      return;
    }
    if (!tlsProtocol) {
      return;
    }
    var mode = tls.mode() == null ? ServerTLSSettings.Mode.PASSTHROUGH : tls.mode();
    boolean files = tls.serverCertificate() != null || tls.privateKey() != null;
    boolean credential =
        tls.credentialName() != null
            || !tls.credentialNames().isEmpty()
            || !tls.tlsCertificates().isEmpty();
    if (tls.credentialName() != null && !tls.credentialNames().isEmpty()) {
      r.error(at + ".credentialNames", "only one of credentialName and credentialNames may be set");
    }
    if (credential && files) {
      r.error(
          at + ".credentialName", "cannot be set together with serverCertificate and privateKey");
    }
    switch (mode) {
      case SIMPLE, MUTUAL, OPTIONAL_MUTUAL -> {
        if (!credential) {
          if (tls.serverCertificate() == null) {
            r.error(
                at + ".serverCertificate",
                "TLS mode " + mode + " needs credentialName or serverCertificate");
          }
          if (tls.privateKey() == null) {
            r.error(at + ".privateKey", "TLS mode " + mode + " needs credentialName or privateKey");
          }
          if (mode != ServerTLSSettings.Mode.SIMPLE && tls.caCertificates() == null) {
            r.error(
                at + ".caCertificates",
                "TLS mode " + mode + " needs caCertificates or credentialName");
          }
        }
      }
      case ISTIO_MUTUAL, PASSTHROUGH, AUTO_PASSTHROUGH -> {
        if (credential || files || tls.caCertificates() != null) {
          r.error(at, "TLS mode " + mode + " cannot have certificates or credentialName");
        }
        if (mode == ServerTLSSettings.Mode.AUTO_PASSTHROUGH && !protocol.equals("TLS")) {
          r.error(at + ".mode", "AUTO_PASSTHROUGH needs protocol TLS");
        }
      }
    }
    if (tls.minProtocolVersion() != null
        && tls.maxProtocolVersion() != null
        && tls.minProtocolVersion() != ServerTLSSettings.TLSProtocol.TLS_AUTO
        && tls.maxProtocolVersion() != ServerTLSSettings.TLSProtocol.TLS_AUTO
        && tls.minProtocolVersion().compareTo(tls.maxProtocolVersion()) > 0) {
      r.error(at + ".minProtocolVersion", "minProtocolVersion is newer than maxProtocolVersion");
    }
    for (int i = 0; i < tls.verifyCertificateSpki().size(); i++) {
      try {
        if (java.util.Base64.getDecoder().decode(tls.verifyCertificateSpki().get(i)).length != 32) {
          r.error(at + ".verifyCertificateSpki[" + i + "]", "must be a base64 SHA-256 hash");
        }
      } catch (IllegalArgumentException e) {
        r.error(at + ".verifyCertificateSpki[" + i + "]", "must be a base64 SHA-256 hash");
      }
    }
    for (int i = 0; i < tls.verifyCertificateHash().size(); i++) {
      String hex = tls.verifyCertificateHash().get(i).replace(":", "");
      if (hex.length() != 64 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        r.error(at + ".verifyCertificateHash[" + i + "]", "must be a hex SHA-256 hash");
      }
    }
  }
}
