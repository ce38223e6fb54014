package dev.bowline.bench.config;

import dev.bowline.api.ResourceCodec;
import dev.bowline.api.validation.Validator;
import dev.bowline.config.ConfigEvent;
import dev.bowline.config.ConfigStore;
import dev.bowline.config.DirectorySource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

/**
 * How long an edited file takes to reach the store's subscribers through {@link DirectorySource}
 * (issue #4: within 1 s). Edits one file N times (default 20) and prints p50 and max.
 */
public final class WatchLatency {
  private WatchLatency() {}

  public static void main(String[] args) throws Exception {
    int edits = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    Path dir = Files.createTempDirectory("bowline-watch");
    Path file = dir.resolve("svc.yaml");
    Files.writeString(file, Corpus.service(0));
    ConfigStore store = new ConfigStore(new Validator(), Clock.systemUTC());
    SynchronousQueue<Long> seen = new SynchronousQueue<>();
    store.subscribe(
        e -> {
          if (e instanceof ConfigEvent.Updated) {
            seen.offer(System.nanoTime());
          }
        });
    long[] millis = new long[edits];
    try (DirectorySource source = new DirectorySource(dir, store, new ResourceCodec())) {
      source.start();
      for (int i = 0; i < edits; i++) {
        String text = Corpus.service(0).replace("weight: 90", "weight: " + (91 + i));
        long start = System.nanoTime();
        Files.writeString(file, text);
        Long at = seen.poll(10, TimeUnit.SECONDS);
        if (at == null) {
          throw new IllegalStateException("edit " + i + " not seen within 10 s");
        }
        millis[i] = (at - start) / 1_000_000;
        // Drain the other resources' (unchanged) re-reads before the next edit.
        Thread.sleep(200);
      }
    }
    Arrays.sort(millis);
    System.out.printf(
        "watch_edits=%d latency_ms_p50=%d latency_ms_max=%d%n",
        edits, millis[edits / 2], millis[edits - 1]);
  }
}
