package dev.bowline.bench.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.bowline.api.Decoded;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.ApplyResult;
import dev.bowline.config.ConfigStore;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Heap a {@link ConfigStore} of N typical resources retains (default 50,000), and, for comparison,
 * the same resources as fabric8 model objects in a list. Prints one line per measurement.
 *
 * <p>Run by {@code bench/config-bench.sh}; pass {@code fabric8} as the second argument for the
 * peer's figure (each measurement in its own JVM, so one cannot skew the other).
 */
public final class StoreFootprint {
  private StoreFootprint() {}

  public static void main(String[] args) throws Exception {
    int resources = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    boolean fabric8 = args.length > 1 && args[1].equals("fabric8");
    int services = resources / Corpus.PER_SERVICE;
    long before = usedAfterGc();
    long start = System.nanoTime();
    Object held;
    int count;
    if (fabric8) {
      YAMLMapper mapper = new YAMLMapper();
      Map<String, Class<?>> kinds =
          Map.of(
              "VirtualService", io.fabric8.istio.api.networking.v1.VirtualService.class,
              "DestinationRule", io.fabric8.istio.api.networking.v1.DestinationRule.class,
              "ServiceEntry", io.fabric8.istio.api.networking.v1.ServiceEntry.class,
              "WorkloadEntry", io.fabric8.istio.api.networking.v1.WorkloadEntry.class,
              "Gateway", io.fabric8.istio.api.networking.v1.Gateway.class,
              "PeerAuthentication", io.fabric8.istio.api.security.v1.PeerAuthentication.class,
              "AuthorizationPolicy", io.fabric8.istio.api.security.v1.AuthorizationPolicy.class);
      List<Object> list = new ArrayList<>();
      for (int i = 0; i < services; i++) {
        for (String doc : Corpus.service(i).split("(?m)^---\\s*$")) {
          JsonNode node = mapper.readTree(doc);
          list.add(mapper.treeToValue(node, kinds.get(node.get("kind").asText())));
        }
      }
      held = list;
      count = list.size();
    } else {
      ConfigStore store = new ConfigStore(new Validator(), Clock.systemUTC());
      ResourceCodec codec = new ResourceCodec();
      for (int i = 0; i < services; i += 100) {
        Decoded d = codec.decode("bench", Corpus.services(i, Math.min(100, services - i)));
        ApplyResult r = store.apply(d.resources());
        if (!d.errors().isEmpty() || !r.ok()) {
          throw new IllegalStateException(d.errors() + " " + r.rejected());
        }
      }
      held = store;
      count = store.status().total();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long after = usedAfterGc();
    System.out.printf(
        "model=%s resources=%d heap_retained_mb=%.1f bytes_per_resource=%d load_seconds=%.1f%n",
        fabric8 ? "fabric8-istio-model" : "bowline-store",
        count,
        (after - before) / 1048576.0,
        (after - before) / count,
        seconds);
    if (held.hashCode() == 42) {
      System.out.println();
    }
  }

  private static long usedAfterGc() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
