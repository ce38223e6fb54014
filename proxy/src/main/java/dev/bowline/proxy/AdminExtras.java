package dev.bowline.proxy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.config.ProxySnapshot;
import dev.bowline.proxy.tls.CertificateSource;
import dev.bowline.proxy.tls.CommonTls;
import dev.bowline.proxy.tls.Pem;
import dev.bowline.proxy.tls.Secret;
import dev.bowline.proxy.tls.SecretKey;
import dev.bowline.proxy.tls.SecretStore;
import dev.bowline.proxy.tls.TrustSource;
import io.envoyproxy.envoy.admin.v3.Certificate;
import io.envoyproxy.envoy.admin.v3.CertificateDetails;
import io.envoyproxy.envoy.admin.v3.Certificates;
import io.envoyproxy.envoy.admin.v3.Memory;
import io.envoyproxy.envoy.admin.v3.SubjectAlternateName;
import io.envoyproxy.envoy.admin.v3.UnreadyTargetsDumps;
import io.envoyproxy.envoy.config.bootstrap.v3.LayeredRuntime;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The admin's {@code /certs}, {@code /memory}, {@code /runtime} and {@code /init_dump}, in Envoy's
 * JSON shapes ({@code envoy.admin.v3.Certificates}, {@code Memory}, {@code UnreadyTargetsDumps};
 * {@code /runtime}'s hand-built object as Envoy's {@code RuntimeHandler} builds it).
 */
final class AdminExtras {
  private AdminExtras() {}

  /**
   * Envoy's {@code /certs}: one {@code Certificate} per TLS context {@code snapshot} uses
   * (listeners' filter chains, then clusters' transport sockets; equal contexts once), its {@code
   * ca_cert} (each CA of its validation context) and {@code cert_chain} (the leaf of each of its
   * certificates), each as {@code CertificateDetails}: path ({@code <inline>}: Bowline holds PEM
   * text, from the config or from SDS), serial number (lower-case hex), SANs, days until
   * expiration, valid from, expiration time. A secret SDS has not delivered yet is left out.
   */
  static String certs(ProxySnapshot snapshot, SecretStore secrets, Instant now) {
    Set<CommonTls> contexts = new LinkedHashSet<>();
    TlsUse.downstream(snapshot).forEach(t -> contexts.add(t.common()));
    TlsUse.upstream(snapshot).forEach(t -> contexts.add(t.common()));
    Certificates.Builder out = Certificates.newBuilder();
    for (CommonTls c : contexts) {
      Certificate.Builder cert = Certificate.newBuilder();
      String ca =
          switch (c.trust().orElse(null)) {
            case null -> null;
            case TrustSource.Inline i -> i.caPem();
            case TrustSource.Sds s ->
                secrets.get(new SecretKey(s.source(), s.name())).orElse(null)
                        instanceof Secret.Validation v
                    ? v.caPem()
                    : null;
          };
      if (ca != null) {
        for (X509Certificate x : parse(ca)) {
          cert.addCaCert(details(x, now));
        }
      }
      for (CertificateSource s : c.certificates()) {
        String chain =
            switch (s) {
              case CertificateSource.Inline i -> i.chainPem();
              case CertificateSource.Sds sds ->
                  secrets.get(new SecretKey(sds.source(), sds.name())).orElse(null)
                          instanceof Secret.Certificate sc
                      ? sc.chainPem()
                      : null;
            };
        List<X509Certificate> xs = chain == null ? List.of() : parse(chain);
        if (!xs.isEmpty()) {
          cert.addCertChain(details(xs.getFirst(), now));
        }
      }
      if (cert.getCaCertCount() > 0 || cert.getCertChainCount() > 0) {
        out.addCertificates(cert);
      }
    }
    return print(out);
  }

  private static List<X509Certificate> parse(String pem) {
    try {
      return Pem.certificates(pem);
    } catch (IllegalArgumentException e) {
      return List.of(); // refused where the context is built; nothing to show here
    }
  }

  private static CertificateDetails details(X509Certificate x, Instant now) {
    Instant from = x.getNotBefore().toInstant();
    Instant until = x.getNotAfter().toInstant();
    CertificateDetails.Builder d =
        CertificateDetails.newBuilder()
            .setPath("<inline>")
            .setSerialNumber(x.getSerialNumber().toString(16))
            .setDaysUntilExpiration(
                until.isBefore(now)
                    ? 0
                    : TimeUnit.SECONDS.toDays(until.getEpochSecond() - now.getEpochSecond()))
            .setValidFrom(timestamp(from))
            .setExpirationTime(timestamp(until));
    try {
      var sans = x.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          String value = String.valueOf(san.get(1));
          switch (type) {
            case 1 -> {} // rfc822Name: Envoy lists URI, DNS and IP SANs
            case 2 -> d.addSubjectAltNames(SubjectAlternateName.newBuilder().setDns(value));
            case 6 -> d.addSubjectAltNames(SubjectAlternateName.newBuilder().setUri(value));
            case 7 -> d.addSubjectAltNames(SubjectAlternateName.newBuilder().setIpAddress(value));
            default -> {}
          }
        }
      }
    } catch (CertificateParsingException e) {
      // no SANs to show
    }
    return d.build();
  }

  private static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  /**
   * Envoy's {@code /memory} ({@code envoy.admin.v3.Memory}, tcmalloc's numbers) from the JVM's:
   *
   * <ul>
   *   <li>{@code allocated}: heap in use plus direct buffers in use (Netty's pooled buffers are
   *       direct): what the proxy's objects and buffers take;
   *   <li>{@code heap_size}: heap committed plus direct buffers' capacity: what the allocators
   *       hold;
   *   <li>{@code pageheap_free}: heap committed but not in use;
   *   <li>{@code pageheap_unmapped}: heap the JVM may grow to but has not committed (max minus
   *       committed; 0 without a max);
   *   <li>{@code total_thread_cache}: 0 (thread-local allocation buffers are not reported);
   *   <li>{@code total_physical_bytes}: heap, non-heap (metaspace, code cache) and direct buffers
   *       committed.
   * </ul>
   */
  static String memory() {
    var mx = ManagementFactory.getMemoryMXBean();
    MemoryUsage heap = mx.getHeapMemoryUsage();
    MemoryUsage nonHeap = mx.getNonHeapMemoryUsage();
    long directUsed = 0;
    long directCapacity = 0;
    for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      directUsed += Math.max(0, b.getMemoryUsed());
      directCapacity += Math.max(0, b.getTotalCapacity());
    }
    long max = heap.getMax();
    return print(
        Memory.newBuilder()
            .setAllocated(heap.getUsed() + directUsed)
            .setHeapSize(heap.getCommitted() + directCapacity)
            .setPageheapFree(Math.max(0, heap.getCommitted() - heap.getUsed()))
            .setPageheapUnmapped(max < 0 ? 0 : Math.max(0, max - heap.getCommitted()))
            .setTotalThreadCache(0)
            .setTotalPhysicalBytes(heap.getCommitted() + nonHeap.getCommitted() + directCapacity));
  }

  /**
   * Envoy's {@code /runtime}: {@code {"layers":[names...],"entries":{key:{"final_value":v,
   * "layer_values":[v or "" per layer]}}}}, the layers of the bootstrap's {@code layered_runtime}
   * in order (an admin layer is listed and empty: {@code /runtime_modify} is not served), keys
   * sorted, values as Envoy's loader keeps them (strings; numbers without a needless fraction).
   */
  static String runtime(LayeredRuntime runtime) {
    List<String> names = new ArrayList<>();
    List<Map<String, String>> layers = new ArrayList<>();
    for (var layer : runtime.getLayersList()) {
      names.add(layer.getName());
      Map<String, String> entries = new TreeMap<>();
      if (layer.hasStaticLayer()) {
        walk(layer.getStaticLayer(), "", entries);
      }
      layers.add(entries);
    }
    Map<String, String[]> all = new TreeMap<>();
    for (int i = 0; i < layers.size(); i++) {
      for (var e : layers.get(i).entrySet()) {
        all.computeIfAbsent(e.getKey(), k -> new String[names.size()])[i] = e.getValue();
      }
    }
    StringBuilder sb = new StringBuilder("{\n \"layers\": [");
    for (int i = 0; i < names.size(); i++) {
      sb.append(i > 0 ? ", " : "").append(quote(names.get(i)));
    }
    sb.append("],\n \"entries\": {");
    boolean first = true;
    for (var e : all.entrySet()) {
      String last = "";
      StringBuilder values = new StringBuilder();
      for (int i = 0; i < names.size(); i++) {
        String v = e.getValue()[i];
        values.append(i > 0 ? ", " : "").append(quote(v == null ? "" : v));
        if (v != null) {
          last = v;
        }
      }
      sb.append(first ? "\n  " : ",\n  ")
          .append(quote(e.getKey()))
          .append(": {\"final_value\": ")
          .append(quote(last))
          .append(", \"layer_values\": [")
          .append(values)
          .append("]}");
      first = false;
    }
    return sb.append(first ? "}\n}\n" : "\n }\n}\n").toString();
  }

  private static void walk(com.google.protobuf.Struct s, String prefix, Map<String, String> out) {
    for (var e : s.getFieldsMap().entrySet()) {
      Value v = e.getValue();
      String key = prefix + e.getKey();
      switch (v.getKindCase()) {
        case STRUCT_VALUE -> walk(v.getStructValue(), key + ".", out);
        case NUMBER_VALUE -> {
          double d = v.getNumberValue();
          out.put(
              key,
              d == Math.rint(d) && Math.abs(d) < 1e15
                  ? Long.toString((long) d)
                  : Double.toString(d));
        }
        case STRING_VALUE -> out.put(key, v.getStringValue());
        case BOOL_VALUE -> out.put(key, Boolean.toString(v.getBoolValue()));
        default -> {} // refused by the runtime loader at start-up
      }
    }
  }

  /**
   * Envoy's {@code /init_dump} ({@code envoy.admin.v3.UnreadyTargetsDumps}): the targets the
   * server's initialisation still waits for, as one {@code Server} dump ({@code unready}, empty
   * once the server is initialised: then {@code {}}). {@code mask} names the component to dump, as
   * Envoy's: only {@code server} (or no mask) shows the server's; Bowline keeps no per-listener
   * init managers, so {@code listener} shows none.
   */
  static String initDump(List<String> unready, @org.jspecify.annotations.Nullable String mask) {
    UnreadyTargetsDumps.Builder out = UnreadyTargetsDumps.newBuilder();
    if (!unready.isEmpty() && (mask == null || mask.isEmpty() || mask.equals("server"))) {
      out.addUnreadyTargetsDumpsBuilder().setName("Server").addAllTargetNames(unready);
    }
    return print(out);
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> {
          if (ch < 0x20) {
            sb.append(String.format("\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  private static String print(MessageOrBuilder m) {
    try {
      return JsonFormat.printer().preservingProtoFieldNames().print(m) + "\n";
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
