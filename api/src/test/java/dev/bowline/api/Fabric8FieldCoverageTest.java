package dev.bowline.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Our records must know exactly the fields of Istio's API, or valid YAML would be rejected (or
 * invalid YAML accepted). fabric8's generated Istio model is the oracle: walk both trees from each
 * kind's spec and compare field names at every level.
 */
class Fabric8FieldCoverageTest {
  private static final String F8 = "io.fabric8.istio.api.api.";

  private final Map<Class<?>, List<Class<?>>> implementors = new HashMap<>();

  @Test
  void everyKindHasExactlyIstiosFields() throws Exception {
    Map<Kind, String> fabric8 = new LinkedHashMap<>();
    for (Kind k : Kind.values()) {
      if (k == Kind.SECRET) {
        continue; // Kubernetes core v1, not an Istio CRD
      }
      String pkg =
          switch (k) {
            case PROXY_CONFIG -> "networking.v1beta1.";
            case PEER_AUTHENTICATION, REQUEST_AUTHENTICATION, AUTHORIZATION_POLICY ->
                "security.v1beta1.";
            case TELEMETRY -> "telemetry.v1alpha1.";
            case WASM_PLUGIN -> "extensions.v1alpha1.";
            default -> "networking.v1alpha3.";
          };
      fabric8.put(k, F8 + pkg + k.kindName());
    }
    TreeSet<String> missing = new TreeSet<>();
    TreeSet<String> extra = new TreeSet<>();
    int[] compared = {0};
    for (var e : fabric8.entrySet()) {
      walk(
          e.getKey().specClass(),
          Class.forName(e.getValue()),
          e.getKey().kindName(),
          missing,
          extra,
          compared);
    }
    // fabric8 names both the oneof wrapper and the RingHash message
    // LoadBalancerSettings...RingHash,
    // so its model shows ringHash.ringHash where Istio has ringHash.minimumRingSize.
    missing.removeIf(p -> p.endsWith("consistentHash.ringHash.ringHash"));
    extra.removeIf(p -> p.endsWith("consistentHash.ringHash.minimumRingSize"));
    assertThat(missing).as("fields Istio has and our records lack").isEmpty();
    assertThat(extra).as("fields our records have and Istio lacks").isEmpty();
    assertThat(compared[0]).as("types compared").isGreaterThan(100);
  }

  private void walk(
      Class<?> ours,
      Class<?> theirs,
      String path,
      TreeSet<String> missing,
      TreeSet<String> extra,
      int[] compared)
      throws IOException {
    compared[0]++;
    Map<String, Type> ourFields = new LinkedHashMap<>();
    for (RecordComponent c : ours.getRecordComponents()) {
      ourFields.put(c.getName(), c.getGenericType());
    }
    Map<String, Type> theirFields = new LinkedHashMap<>();
    collect(theirs, theirFields);
    for (var f : theirFields.entrySet()) {
      Type ourType = ourFields.get(f.getKey());
      if (ourType == null) {
        missing.add(path + "." + f.getKey());
        continue;
      }
      Class<?> o = element(ourType);
      Class<?> t = element(f.getValue());
      if (o.isRecord() && t.getName().startsWith(F8) && o != ours) {
        walk(o, t, path + "." + f.getKey(), missing, extra, compared);
      }
    }
    for (String name : ourFields.keySet()) {
      if (!theirFields.containsKey(name)) {
        extra.add(path + "." + name);
      }
    }
  }

  /** fabric8's JSON properties, with protobuf oneofs ({@code @JsonUnwrapped}) inlined. */
  private void collect(Class<?> theirs, Map<String, Type> out) throws IOException {
    for (Field f : theirs.getDeclaredFields()) {
      JsonProperty jp = f.getAnnotation(JsonProperty.class);
      if (jp == null) {
        continue;
      }
      if (f.getAnnotation(JsonUnwrapped.class) != null) {
        for (Class<?> impl : implementorsOf(f.getType())) {
          collect(impl, out);
        }
      } else {
        out.put(jp.value(), f.getGenericType());
      }
    }
  }

  private List<Class<?>> implementorsOf(Class<?> iface) throws IOException {
    if (implementors.containsKey(iface)) {
      return implementors.get(iface);
    }
    List<Class<?>> found = new ArrayList<>();
    Path jar;
    try {
      jar = Path.of(iface.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IOException(e);
    }
    String prefix = iface.getPackageName().replace('.', '/') + "/";
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      for (var entries = zip.entries(); entries.hasMoreElements(); ) {
        String name = entries.nextElement().getName();
        if (name.startsWith(prefix)
            && name.endsWith(".class")
            && name.indexOf('/', prefix.length()) < 0) {
          try {
            Class<?> c = Class.forName(name.substring(0, name.length() - 6).replace('/', '.'));
            if (!c.isInterface() && iface.isAssignableFrom(c)) {
              found.add(c);
            }
          } catch (ClassNotFoundException | LinkageError e) {
            // not a model class
          }
        }
      }
    }
    implementors.put(iface, found);
    return found;
  }

  private static Class<?> element(Type t) {
    if (t instanceof ParameterizedType p) {
      Type[] args = p.getActualTypeArguments();
      return element(args[args.length - 1]);
    }
    return t instanceof Class<?> c ? c : Object.class;
  }
}
