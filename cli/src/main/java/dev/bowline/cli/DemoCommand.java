package dev.bowline.cli;

import dev.bowline.cli.mesh.MeshRunner;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bowline demo}: {@code bowline up} on the bundled Weather Forecast mesh (with its ingress
 * gateway), then the URL to open and a short tour of the book's scenarios.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the Weather Forecast mesh on this machine: control plane, ingress gateway on",
      "http://127.0.0.1:8080/, each service behind its sidecar; then print a tour of the book's",
      "scenarios (bowline apply -f samples/weather/config/<scenario>). Ctrl-C stops everything."
    })
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--file"},
      paramLabel = "MESH_YAML",
      description =
          "The mesh to run (default: samples/weather/mesh.yaml; samples/weather/mesh-full.yaml"
              + " adds frontend v2 for the multi-service canary).")
  @Nullable Path file;

  @Option(
      names = "--run-dir",
      paramLabel = "DIR",
      description = "Where registry, bootstraps and logs go (default: a new temporary folder).")
  @Nullable Path runDir;

  @Option(
      names = "--ready-timeout-s",
      defaultValue = "30",
      description = "Seconds an instance may take to become ready (default: ${DEFAULT-VALUE}).")
  int readyTimeoutSeconds = 30;

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path home = UpCommand.defaultWeatherJar().getParent().getParent().getParent().getParent();
    UpCommand up = new UpCommand();
    up.spec = spec;
    up.file = file != null ? file : shown(home.resolve("samples/weather/mesh.yaml"));
    up.runDir = runDir;
    up.readyTimeoutSeconds = readyTimeoutSeconds;
    Path config = shown(home.resolve("samples/weather/config"));
    return up.run(runner -> tour(runner, config, spec.commandLine().getOut()));
  }

  /** {@code p} relative to the working directory when it is under it (shorter commands to copy). */
  private static Path shown(Path p) {
    Path cwd = Path.of("").toAbsolutePath();
    Path abs = p.toAbsolutePath().normalize();
    return abs.startsWith(cwd) ? cwd.relativize(abs) : abs;
  }

  static void tour(MeshRunner runner, Path config, PrintWriter out) {
    List<URI> urls = runner.ingressUrls();
    String bowline = Path.of("bowline").toFile().isFile() ? "./bowline" : "bowline";
    StringBuilder sb = new StringBuilder();
    sb.append('\n');
    if (urls.isEmpty()) {
      sb.append("The ingress gateway is not serving (see above); the frontend's sidecar is.\n");
    } else {
      sb.append("Weather Forecast is up: open ").append(urls.getFirst()).append('\n');
    }
    runner
        .dashboardUrl()
        .ifPresent(
            d ->
                sb.append("Mesh dashboard (live graph, traces): ")
                    .append(d)
                    .append("  (or: ")
                    .append(bowline)
                    .append(" dashboard)\n"));
    sb.append("Try, in another terminal (each scenario replaces base resources; README in ")
        .append(config)
        .append("):\n");
    for (String[] line :
        List.of(
            new String[] {
              "canary-weight", "80% of forecasts from v1, 20% from v2 (recommendations)"
            },
            new String[] {"canary-header", "cookie user=tester (the page's User box) gets v2"},
            new String[] {"base", "back to v1 for everyone"})) {
      String cmd = "  " + bowline + " apply -f " + config.resolve(line[0]);
      sb.append(cmd)
          .append(" ".repeat(Math.max(2, 58 - cmd.length())))
          .append("# ")
          .append(line[1])
          .append('\n');
    }
    if (!urls.isEmpty()) {
      sb.append("  curl -s ")
          .append(urls.getFirst())
          .append("api/dashboard?city=beijing   # the page's JSON: who served each part\n");
    }
    sb.append("  ")
        .append(bowline)
        .append(" proxy-status                                   # every proxy's xDS sync state\n");
    sb.append("Ctrl-C stops everything.\n");
    synchronized (out) {
      out.print(sb);
      out.flush();
    }
  }
}
