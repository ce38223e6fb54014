package dev.bowline.proxy.http.filter.metadataexchange;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.util.Map;
import java.util.TreeMap;

/**
 * One workload as Istio's node metadata describes it: the local node, or a peer learned by metadata
 * exchange. Values Istio derives (app, version, canonical service and revision) are resolved once
 * here, with Istio's fallbacks; a missing value is {@code "unknown"}.
 *
 * @param id the peer's node id ({@code x-envoy-peer-metadata-id}), or {@code ""}
 * @param name the pod or instance name ({@code NAME})
 * @param namespace {@code NAMESPACE}
 * @param workload {@code WORKLOAD_NAME}
 * @param app the {@code app} label
 * @param version the {@code version} label
 * @param canonicalService {@code service.istio.io/canonical-name}, else {@code
 *     app.kubernetes.io/name}, else {@code app}, else the workload name
 * @param canonicalRevision {@code service.istio.io/canonical-revision}, else {@code
 *     app.kubernetes.io/version}, else {@code version}, else {@code latest}
 * @param serviceAccount {@code SERVICE_ACCOUNT}
 * @param clusterId {@code CLUSTER_ID}
 * @param meshId {@code MESH_ID}
 * @param labels {@code LABELS}
 */
public record PeerInfo(
    String id,
    String name,
    String namespace,
    String workload,
    String app,
    String version,
    String canonicalService,
    String canonicalRevision,
    String serviceAccount,
    String clusterId,
    String meshId,
    Map<String, String> labels) {
  public static final String UNKNOWN = "unknown";

  /** Nobody: every value {@code unknown} (no metadata exchange happened). */
  public static final PeerInfo NONE = of("", Struct.getDefaultInstance());

  public PeerInfo {
    labels = Map.copyOf(labels);
  }

  /**
   * A hash of the identifying fields only (equal peers still hash alike): the stats filter looks a
   * peer up once per request, and the generated hash would walk every component, labels included.
   */
  @Override
  public int hashCode() {
    return ((id.hashCode() * 31 + name.hashCode()) * 31 + namespace.hashCode()) * 31
        + workload.hashCode();
  }

  /** The workload described by node metadata {@code m} (Istio's field names). */
  public static PeerInfo of(String id, Struct m) {
    Map<String, String> labels = new TreeMap<>();
    Value lv = m.getFieldsOrDefault("LABELS", Value.getDefaultInstance());
    if (lv.hasStructValue()) {
      lv.getStructValue()
          .getFieldsMap()
          .forEach(
              (k, v) -> {
                if (v.hasStringValue()) {
                  labels.put(k, v.getStringValue());
                }
              });
    }
    String workload = or(str(m, "WORKLOAD_NAME"), UNKNOWN);
    String app = labels.getOrDefault("app", UNKNOWN);
    String version = labels.getOrDefault("version", UNKNOWN);
    String canonical =
        first(
            labels.get("service.istio.io/canonical-name"),
            labels.get("app.kubernetes.io/name"),
            labels.get("app"),
            workload);
    String revision =
        first(
            labels.get("service.istio.io/canonical-revision"),
            labels.get("app.kubernetes.io/version"),
            labels.get("version"),
            "latest");
    return new PeerInfo(
        id,
        or(str(m, "NAME"), UNKNOWN),
        or(str(m, "NAMESPACE"), UNKNOWN),
        workload,
        app,
        version,
        canonical,
        revision,
        or(str(m, "SERVICE_ACCOUNT"), UNKNOWN),
        or(str(m, "CLUSTER_ID"), UNKNOWN),
        or(str(m, "MESH_ID"), UNKNOWN),
        labels);
  }

  /**
   * The SPIFFE principal Istio would see for this workload over mTLS. Without TLS on the
   * connection, metrics say {@code unknown} instead (as Istio does for plaintext).
   */
  public String spiffePrincipal(String trustDomain) {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  private static String str(Struct m, String key) {
    Value v = m.getFieldsOrDefault(key, Value.getDefaultInstance());
    return v.hasStringValue() ? v.getStringValue() : "";
  }

  private static String or(String v, String fallback) {
    return v.isEmpty() ? fallback : v;
  }

  private static String first(String... values) {
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return UNKNOWN;
  }
}
