package dev.bowline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bowline dashboard}: the URL of a running mesh's dashboard (served by its control plane,
 * decision 0020), opened in a browser when there is a desktop, as {@code istioctl dashboard} does.
 */
@Command(
    name = "dashboard",
    mixinStandardHelpOptions = true,
    description = {
      "Print (and open, with a desktop) the live mesh dashboard of a running mesh: service graph,",
      "per-service details, the config that applies to a workload, recent traces."
    })
final class DashboardCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ControlPlaneUrl controlPlane;

  @Option(
      names = "--browser",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Open it with xdg-open when a desktop is there (default: ${DEFAULT-VALUE}; --no-browser"
              + " only prints).")
  boolean browser = true;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String base =
        controlPlane.url.endsWith("/")
            ? controlPlane.url.substring(0, controlPlane.url.length() - 1)
            : controlPlane.url;
    URI url;
    try {
      url = URI.create(base + "/dashboard/");
    } catch (IllegalArgumentException e) {
      err.println("bowline dashboard: --control-plane " + controlPlane.url + " is not a URL");
      return 2;
    }
    HttpClient http =
        HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(3))
            .build();
    int status;
    try {
      status =
          http.send(
                  HttpRequest.newBuilder(URI.create(base + "/api/graph"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode();
    } catch (IOException | IllegalArgumentException e) {
      err.println(
          "bowline dashboard: no control plane answers at "
              + base
              + " ("
              + e.getMessage()
              + "); start a mesh with bowline demo or bowline up -f mesh.yaml");
      return 1;
    }
    if (status != 200) {
      err.println(
          "bowline dashboard: the control plane at "
              + base
              + " serves no dashboard (GET /api/graph: HTTP "
              + status
              + ")");
      return 1;
    }
    out.println("dashboard: " + url);
    out.flush();
    if (browser && desktop()) {
      try {
        new ProcessBuilder("xdg-open", url.toString()).inheritIO().start();
      } catch (IOException e) {
        err.println("bowline dashboard: could not open a browser: " + e.getMessage());
      }
    }
    return 0;
  }

  private static boolean desktop() {
    boolean display = System.getenv("DISPLAY") != null || System.getenv("WAYLAND_DISPLAY") != null;
    return display && Files.isExecutable(Path.of("/usr/bin/xdg-open"));
  }
}
