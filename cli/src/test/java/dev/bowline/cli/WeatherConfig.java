package dev.bowline.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * The Weather Forecast app's Istio config (from module config's tests), and broken copies of it.
 */
final class WeatherConfig {
  private WeatherConfig() {}

  static final Path VALID =
      Path.of("..", "config", "src", "test", "resources", "weather").toAbsolutePath().normalize();

  /** A copy of the valid folder in {@code dir} with three deliberate mistakes. */
  static Path broken(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(VALID)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path routing = dir.resolve("routing.yaml");
    Files.writeString(
        routing,
        Files.readString(routing)
            .replace("weight: 10", "weight: -10")
            .replace("perTryTimeout: 1s", "perTryTimeout: 1 second"));
    Path gateway = dir.resolve("gateway.yaml");
    Files.writeString(
        gateway, Files.readString(gateway).replace("protocol: HTTP}", "protocol: HTTPX}"));
    return dir;
  }
}
