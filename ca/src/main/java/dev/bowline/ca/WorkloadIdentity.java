package dev.bowline.ca;

import static java.util.Objects.requireNonNull;

/**
 * A workload's SPIFFE identity, {@code
 * spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}, as Istio names it.
 *
 * @param trustDomain the mesh's trust domain, e.g. {@code cluster.local}
 * @param namespace the workload's namespace
 * @param serviceAccount the workload's service account
 */
public record WorkloadIdentity(String trustDomain, String namespace, String serviceAccount) {
  private static final String SCHEME = "spiffe://";

  /** Checks each part: non-empty, no '/', printable ASCII without spaces. */
  public WorkloadIdentity {
    checkSegment("trust domain", requireNonNull(trustDomain, "trustDomain"));
    checkSegment("namespace", requireNonNull(namespace, "namespace"));
    checkSegment("service account", requireNonNull(serviceAccount, "serviceAccount"));
  }

  /** The SPIFFE ID: {@code spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}. */
  public String spiffeId() {
    return SCHEME + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  /**
   * Parses an Istio SPIFFE ID.
   *
   * @throws IllegalArgumentException naming what is wrong when {@code uri} is not of the form
   *     {@code spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}
   */
  public static WorkloadIdentity parse(String uri) {
    requireNonNull(uri, "uri");
    if (!uri.startsWith(SCHEME)) {
      throw new IllegalArgumentException(
          "'" + uri + "' is not a SPIFFE ID: it must start with spiffe://");
    }
    String[] parts = uri.substring(SCHEME.length()).split("/", -1);
    if (parts.length != 5 || !parts[1].equals("ns") || !parts[3].equals("sa")) {
      throw new IllegalArgumentException(
          "'"
              + uri
              + "' is not an Istio workload identity: expected"
              + " spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>");
    }
    try {
      return new WorkloadIdentity(parts[0], parts[2], parts[4]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + uri + "': " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return spiffeId();
  }

  private static void checkSegment(String what, String value) {
    if (value.isEmpty()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '/' || c <= ' ' || c > '~') {
        throw new IllegalArgumentException(
            what + " '" + value + "' has a character not allowed in a SPIFFE ID at index " + i);
      }
    }
  }
}
