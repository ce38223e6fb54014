package dev.bowline.api.model;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A Kubernetes core {@code v1} Secret as written ({@code type}, {@code data} base64, {@code
 * stringData} plain), the source of a Gateway's {@code credentialName}. Its values are private
 * keys: {@link #toString()} names only the keys, never the values.
 *
 * <p>Which keys hold what follows istiod: {@code tls.crt}/{@code tls.key}/{@code ca.crt} ({@code
 * kubernetes.io/tls}), else {@code cert}/{@code key}/{@code cacert} (generic).
 */
public record KubernetesSecret(
    @Nullable String type,
    Map<String, String> data,
    Map<String, String> stringData,
    @Nullable Boolean immutable)
    implements Spec {
  public KubernetesSecret {
    data = Freeze.map(data);
    stringData = Freeze.map(stringData);
  }

  /** A certificate chain and its private key, with the data keys they were read from. */
  public record CertificateAndKey(String chainPem, String keyPem, String chainKey, String keyKey) {
    @Override
    public String toString() {
      return "CertificateAndKey[" + chainKey + ", " + keyKey + "=<redacted>]";
    }
  }

  /** A CA bundle, with the data key it was read from. */
  public record CaBundle(String pem, String key) {}

  /**
   * Every value, decoded ({@code data} from base64, {@code stringData} over it, as the API server
   * merges them). A value that is not valid base64 maps to null (validation names it).
   */
  public Map<String, @Nullable String> decoded() {
    Map<String, @Nullable String> out = new LinkedHashMap<>();
    data.forEach((k, v) -> out.put(k, decode(v)));
    out.putAll(stringData);
    return out;
  }

  private static @Nullable String decode(String base64) {
    try {
      return new String(
          Base64.getDecoder().decode(base64.replaceAll("\\s", "")), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * The server certificate and key, istiod's way: {@code tls.crt/tls.key}, else {@code cert/key}.
   */
  public Optional<CertificateAndKey> certificate() {
    Map<String, @Nullable String> d = decoded();
    for (String[] keys : new String[][] {{"tls.crt", "tls.key"}, {"cert", "key"}}) {
      String chain = d.get(keys[0]);
      String key = d.get(keys[1]);
      if (chain != null && key != null) {
        return Optional.of(new CertificateAndKey(chain, key, keys[0], keys[1]));
      }
    }
    return Optional.empty();
  }

  /** The CA certificates clients must chain to: {@code ca.crt}, else {@code cacert}. */
  public Optional<CaBundle> caCertificates() {
    Map<String, @Nullable String> d = decoded();
    for (String k : new String[] {"ca.crt", "cacert"}) {
      String v = d.get(k);
      if (v != null) {
        return Optional.of(new CaBundle(v, k));
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    var keys = new java.util.TreeSet<String>(data.keySet());
    keys.addAll(stringData.keySet());
    return "KubernetesSecret[type=" + type + ", keys=" + keys + "]";
  }
}
