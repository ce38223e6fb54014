package dev.bowline.config.analysis;

import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.Validation;
import dev.bowline.api.model.AuthorizationPolicy;
import dev.bowline.api.model.ClientTLSSettings;
import dev.bowline.api.model.Destination;
import dev.bowline.api.model.DestinationRule;
import dev.bowline.api.model.Gateway;
import dev.bowline.api.model.PeerAuthentication;
import dev.bowline.api.model.ServiceEntry;
import dev.bowline.api.model.Sidecar;
import dev.bowline.api.model.Telemetry;
import dev.bowline.api.model.VirtualService;
import dev.bowline.api.model.WorkloadEntry;
import dev.bowline.api.model.WorkloadGroup;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.analysis.AnalysisMessage.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** Bowline's analyzers, with Istio's message codes. */
public final class Analyzers {
  private Analyzers() {}

  /** Every built-in analyzer, in the order their messages are listed. */
  public static List<Analyzer> all() {
    return List.of(
        Analyzers::schema,
        Analyzers::virtualServiceDestinations,
        Analyzers::virtualServiceGateways,
        Analyzers::gatewaySelectors,
        Analyzers::conflictingGateways,
        Analyzers::conflictingMeshVirtualServices,
        Analyzers::conflictingDestinationRules,
        Analyzers::mtlsConflicts,
        Analyzers::sidecarSelectors,
        Analyzers::destinationRuleCertificates,
        Analyzers::portNames,
        Analyzers::extensionProviders);
  }

  /** Runs {@code analyzers} over {@code context}; messages sorted by level, origin and code. */
  public static List<AnalysisMessage> run(AnalysisContext context, List<Analyzer> analyzers) {
    List<AnalysisMessage> out = new ArrayList<>();
    for (Analyzer a : analyzers) {
      a.analyze(context, out::add);
    }
    out.sort(
        Comparator.comparing(AnalysisMessage::level)
            .thenComparing(AnalysisMessage::origin)
            .thenComparing(AnalysisMessage::code));
    return List.copyOf(out);
  }

  private static AnalysisMessage msg(
      String code, String name, Level level, Resource<?> r, String text) {
    return new AnalysisMessage(code, name, level, r.key().toString(), text);
  }

  private static AnalysisMessage notFound(Resource<?> r, String what, String value) {
    return msg(
        "IST0101",
        "ReferencedResourceNotFound",
        Level.ERROR,
        r,
        "Referenced " + what + " not found: \"" + value + "\"");
  }

  /** IST0106/IST0133/IST0002: what validation finds, as analyze reports it. */
  static void schema(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    Validator validator = new Validator();
    for (Resource<?> r : ctx.resources()) {
      Validation v = validator.validate(r);
      for (Message m : v.errors()) {
        report.accept(
            msg(
                "IST0106",
                "SchemaValidationError",
                Level.ERROR,
                r,
                "Schema validation error: " + pathText(m)));
      }
      for (Message m : v.warnings()) {
        if (m.text().startsWith("deprecated")) {
          report.accept(
              msg("IST0002", "Deprecated", Level.WARNING, r, "Deprecated: " + pathText(m)));
        } else {
          report.accept(
              msg(
                  "IST0133",
                  "SchemaWarning",
                  Level.WARNING,
                  r,
                  "Schema validation warning: " + pathText(m)));
        }
      }
    }
  }

  private static String pathText(Message m) {
    return m.path().isEmpty() ? m.text() : m.path() + ": " + m.text();
  }

  /** Hosts the registry knows: local services and ServiceEntry hosts, fully qualified. */
  private static List<String> registryHosts(AnalysisContext ctx) {
    List<String> hosts = new ArrayList<>();
    for (LocalRegistry.Service svc : ctx.registry().services()) {
      hosts.add(svc.name() + "." + svc.namespace() + ".svc." + ctx.domainSuffix());
    }
    for (Resource<ServiceEntry> se : ctx.of(ServiceEntry.class)) {
      for (String h : se.spec().hosts()) {
        hosts.add(ctx.fqdn(h, se.namespace()));
      }
    }
    return hosts;
  }

  private static boolean hostKnown(List<String> registry, String fqdn) {
    for (String h : registry) {
      if (h.equals(fqdn) || h.startsWith("*.") && fqdn.endsWith(h.substring(1))) {
        return true;
      }
    }
    return false;
  }

  /** IST0101: destinations whose host is not in the registry or whose subset no rule defines. */
  static void virtualServiceDestinations(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    List<String> registry = registryHosts(ctx);
    Map<String, List<Resource<DestinationRule>>> rules = new HashMap<>();
    for (Resource<DestinationRule> dr : ctx.of(DestinationRule.class)) {
      rules
          .computeIfAbsent(ctx.fqdn(dr.spec().host(), dr.namespace()), h -> new ArrayList<>())
          .add(dr);
    }
    for (Resource<VirtualService> vs : ctx.of(VirtualService.class)) {
      List<Destination> destinations = new ArrayList<>();
      for (var http : vs.spec().http()) {
        http.route().forEach(d -> addIfPresent(destinations, d.destination()));
        addIfPresent(destinations, http.mirror());
        http.mirrors().forEach(m -> addIfPresent(destinations, m.destination()));
      }
      vs.spec()
          .tcp()
          .forEach(t -> t.route().forEach(d -> addIfPresent(destinations, d.destination())));
      vs.spec()
          .tls()
          .forEach(t -> t.route().forEach(d -> addIfPresent(destinations, d.destination())));
      Set<String> reported = new java.util.HashSet<>();
      for (Destination d : destinations) {
        String fqdn = ctx.fqdn(d.host(), vs.namespace());
        if (!hostKnown(registry, fqdn)) {
          if (reported.add("host:" + d.host())) {
            report.accept(notFound(vs, "host", d.host()));
          }
          continue;
        }
        if (d.subset() != null) {
          boolean defined =
              rules.getOrDefault(fqdn, List.of()).stream()
                  .anyMatch(
                      dr ->
                          dr.spec().subsets().stream().anyMatch(s -> s.name().equals(d.subset())));
          if (!defined && reported.add("subset:" + d.host() + "+" + d.subset())) {
            report.accept(
                notFound(vs, "host+subset in destinationrule", d.host() + "+" + d.subset()));
          }
        }
      }
    }
  }

  private static void addIfPresent(List<Destination> list, Destination d) {
    if (d != null && !d.host().isEmpty()) {
      list.add(d);
    }
  }

  private static ResourceKey gatewayKey(String ref, String namespace) {
    int slash = ref.indexOf('/');
    return slash < 0
        ? new ResourceKey(dev.bowline.api.Kind.GATEWAY, namespace, ref)
        : new ResourceKey(
            dev.bowline.api.Kind.GATEWAY, ref.substring(0, slash), ref.substring(slash + 1));
  }

  /**
   * IST0101 for gateways a VirtualService names but nobody defines; IST0132 for hosts they do not
   * serve.
   */
  static void virtualServiceGateways(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    Map<ResourceKey, Resource<Gateway>> gateways = new HashMap<>();
    ctx.of(Gateway.class).forEach(g -> gateways.put(g.key(), g));
    for (Resource<VirtualService> vs : ctx.of(VirtualService.class)) {
      for (String ref : vs.spec().gateways()) {
        if (ref.equals("mesh")) {
          continue;
        }
        Resource<Gateway> gw = gateways.get(gatewayKey(ref, vs.namespace()));
        if (gw == null) {
          report.accept(notFound(vs, "gateway", ref));
          continue;
        }
        List<String> missing = new ArrayList<>();
        for (String host : vs.spec().hosts()) {
          boolean served =
              gw.spec().servers().stream()
                  .flatMap(s -> s.hosts().stream())
                  .map(h -> h.contains("/") ? h.substring(h.indexOf('/') + 1) : h)
                  .anyMatch(h -> hostMatches(h, host) || hostMatches(host, h));
          if (!served) {
            missing.add(host);
          }
        }
        if (!missing.isEmpty()) {
          report.accept(
              msg(
                  "IST0132",
                  "VirtualServiceHostNotFoundInGateway",
                  Level.WARNING,
                  vs,
                  "one or more host "
                      + missing
                      + " defined in VirtualService "
                      + vs.namespace()
                      + "/"
                      + vs.name()
                      + " not found in Gateway "
                      + gw.namespace()
                      + "/"
                      + gw.name()
                      + "."));
        }
      }
    }
  }

  private static boolean hostMatches(String pattern, String host) {
    return pattern.equals("*")
        || pattern.equals(host)
        || pattern.startsWith("*.") && host.endsWith(pattern.substring(1));
  }

  /** IST0101: a Gateway whose selector matches no known workload. */
  static void gatewaySelectors(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    List<Map<String, String>> workloads = workloadLabels(ctx);
    for (Resource<Gateway> gw : ctx.of(Gateway.class)) {
      Map<String, String> sel = gw.spec().selector();
      if (!sel.isEmpty() && workloads.stream().noneMatch(l -> AnalysisContext.selects(sel, l))) {
        String text =
            sel.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
        report.accept(notFound(gw, "selector", text));
      }
    }
  }

  private static List<Map<String, String>> workloadLabels(AnalysisContext ctx) {
    List<Map<String, String>> labels = new ArrayList<>();
    ctx.registry().workloads().forEach(w -> labels.add(w.labels()));
    ctx.of(WorkloadEntry.class).forEach(w -> labels.add(w.spec().labels()));
    ctx.of(ServiceEntry.class)
        .forEach(se -> se.spec().endpoints().forEach(e -> labels.add(e.labels())));
    for (Resource<WorkloadGroup> wg : ctx.of(WorkloadGroup.class)) {
      Map<String, String> l = new LinkedHashMap<>();
      if (wg.spec().metadata() != null) {
        l.putAll(wg.spec().metadata().labels());
      }
      if (wg.spec().template() != null) {
        l.putAll(wg.spec().template().labels());
      }
      labels.add(l);
    }
    return labels;
  }

  /** IST0145: two Gateways for the same workloads serve overlapping hosts on the same port. */
  static void conflictingGateways(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    List<Resource<Gateway>> gateways = ctx.of(Gateway.class);
    for (Resource<Gateway> a : gateways) {
      for (Resource<Gateway> b : gateways) {
        if (a == b || !a.spec().selector().equals(b.spec().selector())) {
          continue;
        }
        for (var sa : a.spec().servers()) {
          for (var sb : b.spec().servers()) {
            if (sa.port() == null
                || sb.port() == null
                || sa.port().number() == null
                || !sa.port().number().equals(sb.port().number())) {
              continue;
            }
            List<String> overlap = new ArrayList<>();
            for (String ha : sa.hosts()) {
              String x = ha.contains("/") ? ha.substring(ha.indexOf('/') + 1) : ha;
              for (String hb : sb.hosts()) {
                String y = hb.contains("/") ? hb.substring(hb.indexOf('/') + 1) : hb;
                if ((hostMatches(x, y) || hostMatches(y, x)) && !overlap.contains(x)) {
                  overlap.add(x);
                }
              }
            }
            if (!overlap.isEmpty()) {
              String selector =
                  a.spec().selector().entrySet().stream()
                      .map(e -> e.getKey() + "=" + e.getValue())
                      .collect(Collectors.joining(","));
              report.accept(
                  msg(
                      "IST0145",
                      "ConflictingGateways",
                      Level.ERROR,
                      a,
                      "Conflict with gateways "
                          + b.namespace()
                          + "/"
                          + b.name()
                          + " (workload selector "
                          + selector
                          + ", port "
                          + sa.port().number()
                          + ", hosts "
                          + overlap
                          + ")."));
            }
          }
        }
      }
    }
  }

  /**
   * IST0109: VirtualServices bound to the mesh define the same host within one export scope, as
   * Istio's analyzer sees it: hosts are keyed by {@code scope/fqdn} (scope {@code *} when the
   * VirtualService is exported everywhere, otherwise each namespace of its {@code exportTo}); a
   * namespace-scoped host also conflicts with every host exported everywhere that overlaps it,
   * wildcards included ({@code *.weather.svc.cluster.local} vs {@code
   * forecast.weather.svc.cluster.local}). Two hosts both exported everywhere conflict only when
   * equal: there the more specific host wins, which Istio does not report.
   */
  static void conflictingMeshVirtualServices(
      AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    Map<String, List<Resource<VirtualService>>> byScopedHost = new TreeMap<>();
    for (Resource<VirtualService> vs : ctx.of(VirtualService.class)) {
      boolean mesh = vs.spec().gateways().isEmpty() || vs.spec().gateways().contains("mesh");
      if (!mesh) {
        continue;
      }
      List<String> exportTo = vs.spec().exportTo();
      java.util.Set<String> scopes = new java.util.TreeSet<>();
      if (exportTo.isEmpty() || exportTo.contains("*")) {
        scopes.add("*");
      } else {
        exportTo.forEach(e -> scopes.add(e.equals(".") ? vs.namespace() : e));
      }
      for (String scope : scopes) {
        for (String h : vs.spec().hosts()) {
          var list =
              byScopedHost.computeIfAbsent(
                  scope + "/" + ctx.fqdn(h, vs.namespace()), k -> new ArrayList<>());
          if (!list.contains(vs)) {
            list.add(vs);
          }
        }
      }
    }
    java.util.Set<Resource<VirtualService>> reported = new java.util.HashSet<>();
    byScopedHost.forEach(
        (scopedHost, own) -> {
          int slash = scopedHost.indexOf('/');
          String scope = scopedHost.substring(0, slash);
          String host = scopedHost.substring(slash + 1);
          List<Resource<VirtualService>> list = new ArrayList<>(own);
          if (!scope.equals("*")) {
            byScopedHost.forEach(
                (other, vss) -> {
                  if (other.startsWith("*/") && hostsOverlap(host, other.substring(2))) {
                    vss.stream().filter(v -> !list.contains(v)).forEach(list::add);
                  }
                });
          }
          if (list.size() < 2) {
            return;
          }
          String names =
              list.stream()
                  .map(v -> v.namespace() + "/" + v.name())
                  .collect(Collectors.joining(","));
          for (var vs : list) {
            if (reported.add(vs)) {
              report.accept(
                  msg(
                      "IST0109",
                      "ConflictingMeshGatewayVirtualServiceHosts",
                      Level.ERROR,
                      vs,
                      "The VirtualServices "
                          + names
                          + " associated with mesh gateway define the same host "
                          + scopedHost
                          + " which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource."));
            }
          }
        });
  }

  /**
   * True when two host names overlap: equal, or one wildcard's suffix covers the other ({@code *}
   * covers everything).
   */
  static boolean hostsOverlap(String a, String b) {
    boolean wa = a.startsWith("*");
    boolean wb = b.startsWith("*");
    if (wa && wb) {
      String sa = a.substring(1);
      String sb = b.substring(1);
      return sa.length() < sb.length() ? sb.endsWith(sa) : sa.endsWith(sb);
    }
    if (wa) {
      return b.endsWith(a.substring(1));
    }
    if (wb) {
      return a.endsWith(b.substring(1));
    }
    return a.equals(b);
  }

  /**
   * BWL0001 (Istio has no code for it): several DestinationRules for one host in one namespace;
   * Istio merges only their subsets.
   */
  static void conflictingDestinationRules(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    Map<String, List<Resource<DestinationRule>>> byHost = new TreeMap<>();
    for (Resource<DestinationRule> dr : ctx.of(DestinationRule.class)) {
      if (dr.spec().workloadSelector() == null) {
        byHost
            .computeIfAbsent(
                dr.namespace() + "|" + ctx.fqdn(dr.spec().host(), dr.namespace()),
                k -> new ArrayList<>())
            .add(dr);
      }
    }
    byHost.forEach(
        (key, list) -> {
          if (list.size() > 1) {
            String names =
                list.stream()
                    .map(d -> d.namespace() + "/" + d.name())
                    .collect(Collectors.joining(","));
            for (var dr : list) {
              report.accept(
                  msg(
                      "BWL0001",
                      "ConflictingDestinationRules",
                      Level.WARNING,
                      dr,
                      "The DestinationRules "
                          + names
                          + " in one namespace define the same host "
                          + key.substring(key.indexOf('|') + 1)
                          + "; only their subsets merge, the first traffic policy wins."));
            }
          }
        });
  }

  /** IST0113: STRICT mTLS required by a PeerAuthentication but a DestinationRule disables TLS. */
  static void mtlsConflicts(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    List<Resource<PeerAuthentication>> strict =
        ctx.of(PeerAuthentication.class).stream()
            .filter(
                pa -> pa.spec().selector() == null || pa.spec().selector().matchLabels().isEmpty())
            .filter(
                pa ->
                    pa.spec().mtls() != null
                        && pa.spec().mtls().mode() == PeerAuthentication.MutualTLS.Mode.STRICT)
            .toList();
    for (Resource<DestinationRule> dr : ctx.of(DestinationRule.class)) {
      var tp = dr.spec().trafficPolicy();
      if (tp == null || tp.tls() == null || tp.tls().mode() != ClientTLSSettings.Mode.DISABLE) {
        continue;
      }
      String host = ctx.fqdn(dr.spec().host(), dr.namespace());
      for (Resource<PeerAuthentication> pa : strict) {
        boolean applies =
            pa.namespace().equals(ctx.rootNamespace())
                || host.endsWith("." + pa.namespace() + ".svc." + ctx.domainSuffix());
        if (applies) {
          report.accept(
              msg(
                  "IST0113",
                  "MTLSPolicyConflict",
                  Level.ERROR,
                  dr,
                  "A DestinationRule and Policy are in conflict with regards to mTLS for host "
                      + host
                      + ". The DestinationRule \""
                      + dr.namespace()
                      + "/"
                      + dr.name()
                      + "\" specifies that mTLS must be false but the Policy object \""
                      + pa.namespace()
                      + "/"
                      + pa.name()
                      + "\" specifies Strict."));
        }
      }
    }
  }

  /**
   * IST0111: several selector-less Sidecars in one namespace; IST0110: Sidecars selecting one
   * workload.
   */
  static void sidecarSelectors(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    Map<String, List<Resource<Sidecar>>> withoutSelector = new TreeMap<>();
    Map<String, List<Resource<Sidecar>>> withSelector = new TreeMap<>();
    for (Resource<Sidecar> sc : ctx.of(Sidecar.class)) {
      (sc.spec().workloadSelector() == null ? withoutSelector : withSelector)
          .computeIfAbsent(sc.namespace(), n -> new ArrayList<>())
          .add(sc);
    }
    withoutSelector.forEach(
        (ns, list) -> {
          if (list.size() > 1) {
            List<String> names = list.stream().map(Resource::name).toList();
            list.forEach(
                sc ->
                    report.accept(
                        msg(
                            "IST0111",
                            "MultipleSidecarsWithoutWorkloadSelectors",
                            Level.ERROR,
                            sc,
                            "The Sidecars "
                                + names
                                + " in namespace \""
                                + ns
                                + "\" have no workload selector, which can lead to undefined behavior.")));
          }
        });
    // Workloads are WorkloadEntries and the workloads of the mesh/registry files (pods to Istio).
    List<LocalRegistry.Workload> workloads = new ArrayList<>(ctx.registry().workloads());
    for (Resource<WorkloadEntry> we : ctx.of(WorkloadEntry.class)) {
      workloads.add(new LocalRegistry.Workload(we.namespace(), we.name(), we.spec().labels()));
    }
    for (LocalRegistry.Workload we : workloads) {
      List<Resource<Sidecar>> selecting =
          withSelector.getOrDefault(we.namespace(), List.of()).stream()
              .filter(
                  sc -> AnalysisContext.selects(sc.spec().workloadSelector().labels(), we.labels()))
              .toList();
      if (selecting.size() > 1) {
        List<String> names = selecting.stream().map(Resource::name).toList();
        selecting.forEach(
            sc ->
                report.accept(
                    msg(
                        "IST0110",
                        "ConflictingSidecarWorkloadSelectors",
                        Level.ERROR,
                        sc,
                        "The Sidecars "
                            + names
                            + " in namespace \""
                            + we.namespace()
                            + "\" select the same workload pod \""
                            + we.name()
                            + "\", which can lead to undefined behavior.")));
      }
    }
  }

  private static final java.util.regex.Pattern PORT_NAME_CONVENTION =
      java.util.regex.Pattern.compile(
          "(http|http2|https|grpc|grpc-web|tcp|tls|mongo|mysql|redis|udp|h2c)(-.*)?",
          java.util.regex.Pattern.CASE_INSENSITIVE);

  /**
   * IST0118: a ServiceEntry port with no protocol whose name does not say it either ({@code
   * <protocol>[-<suffix>]}), so Istio falls back to protocol sniffing.
   */
  static void portNames(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    for (Resource<ServiceEntry> se : ctx.of(ServiceEntry.class)) {
      for (var p : se.spec().ports()) {
        String name = p.name() == null ? "" : p.name();
        if ((p.protocol() == null || p.protocol().isEmpty())
            && !PORT_NAME_CONVENTION.matcher(name).matches()) {
          report.accept(
              msg(
                  "IST0118",
                  "PortNameIsNotUnderNamingConvention",
                  Level.INFO,
                  se,
                  "Port name "
                      + name
                      + " (port: "
                      + p.number()
                      + ", targetPort: "
                      + (p.targetPort() == null ? "" : p.targetPort())
                      + ") doesn't follow the naming convention of Istio port."));
        }
      }
    }
  }

  /**
   * IST0101: a CUSTOM AuthorizationPolicy or a Telemetry names an extension provider MeshConfig
   * does not define; IST0157: a Telemetry with an empty provider list.
   */
  static void extensionProviders(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    Set<String> defined = new java.util.HashSet<>();
    ctx.mesh().extensionProviders().forEach(p -> defined.add(String.valueOf(p.name())));
    for (Resource<AuthorizationPolicy> ap : ctx.of(AuthorizationPolicy.class)) {
      var provider = ap.spec().provider();
      if (ap.spec().action() == AuthorizationPolicy.Action.CUSTOM
          && provider != null
          && provider.name() != null
          && !defined.contains(provider.name())) {
        report.accept(notFound(ap, "extension provider", provider.name()));
      }
    }
    for (Resource<Telemetry> t : ctx.of(Telemetry.class)) {
      List<List<Telemetry.ProviderRef>> lists = new ArrayList<>();
      t.spec().tracing().forEach(x -> lists.add(x.providers()));
      t.spec().metrics().forEach(x -> lists.add(x.providers()));
      t.spec().accessLogging().forEach(x -> lists.add(x.providers()));
      Set<String> reported = new java.util.HashSet<>();
      for (var list : lists) {
        for (var ref : list) {
          if (ref.name() != null && !defined.contains(ref.name()) && reported.add(ref.name())) {
            report.accept(notFound(t, "extension provider", ref.name()));
          }
        }
      }
      boolean empty =
          t.spec().tracing().isEmpty()
              && t.spec().metrics().isEmpty()
              && t.spec().accessLogging().isEmpty();
      if (empty) {
        report.accept(
            msg(
                "IST0157",
                "InvalidTelemetryProvider",
                Level.WARNING,
                t,
                "The Telemetry "
                    + t.name()
                    + " in namespace \""
                    + t.namespace()
                    + "\" with empty providers will be ignored."));
      }
    }
  }

  /** IST0128: TLS to a destination without a CA to verify the server. */
  static void destinationRuleCertificates(AnalysisContext ctx, Consumer<AnalysisMessage> report) {
    for (Resource<DestinationRule> dr : ctx.of(DestinationRule.class)) {
      var tp = dr.spec().trafficPolicy();
      if (tp == null || tp.tls() == null) {
        continue;
      }
      var tls = tp.tls();
      boolean verifying =
          tls.caCertificates() != null
              || tls.credentialName() != null
              || Boolean.TRUE.equals(tls.insecureSkipVerify());
      if ((tls.mode() == ClientTLSSettings.Mode.SIMPLE
              || tls.mode() == ClientTLSSettings.Mode.MUTUAL)
          && !verifying) {
        report.accept(
            msg(
                "IST0128",
                "NoServerCertificateVerificationDestinationLevel",
                Level.WARNING,
                dr,
                "DestinationRule "
                    + dr.name()
                    + " in namespace "
                    + dr.namespace()
                    + " has TLS mode set to "
                    + tls.mode()
                    + " but no caCertificates are set to validate server identity for host: "
                    + dr.spec().host()));
      }
    }
  }
}
