package dev.bowline.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileWatcherTest {
  @Test
  void runsOnChangesToItsFileOnly(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("registry.yaml");
    Files.writeString(file, "a");
    AtomicInteger changes = new AtomicInteger();
    try (FileWatcher w = FileWatcher.of(file, "test-file-watcher", changes::incrementAndGet)) {
      w.start();
      Files.writeString(dir.resolve("..data"), "other");
      Files.writeString(dir.resolve("neighbour.yaml"), "other");
      // One event for the file: a plain write is two (truncate, then write), and on a loaded
      // machine they can come further apart than the watcher's settle time, giving a second run
      // after `seen` was read below. Which names count is what this test is about.
      Path next = dir.resolve(".registry.yaml.next");
      Files.writeString(next, "b");
      Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      await().atMost(Duration.ofSeconds(30)).until(() -> changes.get() > 0);

      int seen = changes.get();
      Files.writeString(dir.resolve("..data"), "again");
      Files.writeString(dir.resolve("neighbour.yaml"), "again");
      Thread.sleep(500); // settle (100 ms) and then some: nothing may come
      assertThat(changes.get()).isEqualTo(seen);
    }
  }

  @Test
  void aConfigMapFileAlsoSeesTheVolumesSwap(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mesh");
    Files.writeString(file, "a");
    AtomicInteger changes = new AtomicInteger();
    try (FileWatcher w =
        FileWatcher.ofConfigMapFile(file, "test-file-watcher", changes::incrementAndGet)) {
      w.start();
      Files.writeString(dir.resolve("..data"), "swapped");
      await().atMost(Duration.ofSeconds(30)).until(() -> changes.get() > 0);
    }
  }
}
