package dev.bowline.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard page in headless Chromium against a real {@code bowline control-plane} (no mesh, so
 * no traffic and no trace receiver): the registry's workloads are drawn, the traces panel shows its
 * empty state, and the page's own waterfall module, fed a static trace in the receiver's JSON
 * shape, lays the spans out as a call tree with bars where the spans were.
 */
class DashboardPageIT {
  static final String ADDRESS = "127.0.0.191";

  @TempDir Path dir;

  @Test
  void emptyMeshAndAWaterfallFromAFixture() throws Exception {
    Path registry = dir.resolve("registry.yaml");
    Files.writeString(
        registry,
        """
        services:
        - {namespace: weather, name: forecast, ports: [{name: http, port: 3002}]}
        workloads:
        - {namespace: weather, name: forecast-v1-0, labels: {app: forecast, version: v1}, address: 127.0.0.192}
        - {namespace: weather, name: forecast-v2-0, labels: {app: forecast, version: v2}, address: 127.0.0.193}
        """);
    List<String> argv = new ArrayList<>(WeatherMesh.java());
    argv.addAll(
        List.of(
            "-jar",
            WeatherMesh.ROOT.resolve("cli/target/bowline.jar").toString(),
            "control-plane",
            "--registry",
            registry.toString(),
            "--address",
            ADDRESS,
            "--xds-port",
            "0",
            "--monitoring-port",
            "0"));
    Process cp = new ProcessBuilder(argv).redirectError(dir.resolve("cp.err").toFile()).start();
    WebDriver driver = null;
    try {
      BufferedReader out =
          new BufferedReader(new InputStreamReader(cp.getInputStream(), StandardCharsets.UTF_8));
      String url = null;
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith("dashboard: ")) {
          url = line.substring("dashboard: ".length());
          break;
        }
      }
      assertThat(url).as(Files.readString(dir.resolve("cp.err"))).startsWith("http://" + ADDRESS);

      driver = Browser.start();
      driver.get(url);
      WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
      wait.until(d -> d.findElements(By.cssSelector("#graph g.node")).size() == 2);
      assertThat(
              driver.findElements(By.cssSelector("#graph g.node")).stream()
                  .map(e -> e.getAttribute("data-id"))
                  .toList())
          .containsExactlyInAnyOrder("weather/forecast/v1", "weather/forecast/v2");
      assertThat(driver.findElements(By.cssSelector("#graph g.edge"))).isEmpty();
      wait.until(d -> !d.findElements(By.id("no-traces")).isEmpty());
      assertThat(driver.findElement(By.id("no-traces")).getText()).isEqualTo("no traces yet");
      assertThat(driver.findElement(By.id("status")).getText()).contains("0/0 proxies scraped");

      // The waterfall module on a fixture in the OTLP receiver's /api/traces/{id} shape.
      String fixture =
          Files.readString(Path.of("src/test/resources/dashboard/page-load-trace.json"));
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> rows =
          (List<Map<String, Object>>)
              ((JavascriptExecutor) driver)
                  .executeAsyncScript(
                      """
                      const done = arguments[arguments.length - 1];
                      const trace = JSON.parse(arguments[0]);
                      import('./waterfall.js').then((m) => {
                        const box = document.createElement('section');
                        box.id = 'fixture-waterfall';
                        box.className = 'panel';
                        document.querySelector('main').append(box);
                        m.renderWaterfall(box, trace);
                        done(m.spanRows(trace).map((r) => ({
                          id: r.span.spanId, depth: r.depth, error: r.error,
                          offset: Math.round(r.offsetPct * 100) / 100,
                          width: Math.round(r.widthPct * 100) / 100 })));
                      }).catch((e) => done(String(e)));
                      """,
                      fixture);
      assertThat(rows)
          .extracting(r -> r.get("id") + "@" + r.get("depth"))
          .containsExactly(
              "a000000000000001@0", // gateway: the root
              "a000000000000002@1", // frontend server
              "a000000000000003@2", // frontend -> forecast (starts first)
              "a000000000000004@3", // forecast v2 server
              "a000000000000005@4", // forecast -> recommendation
              "a000000000000006@5", // recommendation server
              "a000000000000007@2", // frontend -> advertisement
              "a000000000000008@3"); // advertisement server
      // Bars where the spans were: the trace spans 30 ms from the gateway's start.
      assertThat(rows.get(0)).containsEntry("offset", 0L).containsEntry("width", 100L);
      assertThat(((Number) rows.get(3).get("offset")).doubleValue()).isEqualTo(8.33);
      assertThat(((Number) rows.get(3).get("width")).doubleValue()).isEqualTo(56.67);
      assertThat(rows)
          .filteredOn(r -> Boolean.TRUE.equals(r.get("error")))
          .extracting(r -> r.get("id"))
          .containsExactly("a000000000000005", "a000000000000006");
      List<WebElement> drawn = driver.findElements(By.cssSelector("#fixture-waterfall .wf-row"));
      assertThat(drawn).hasSize(8);
      assertThat(drawn.get(3).getText()).contains("forecast.weather").contains("17.0 ms");
      assertThat(drawn.get(5).getAttribute("class")).contains("error");
      assertThat(drawn.get(3).findElement(By.className("wf-bar")).getAttribute("style"))
          .contains("left: 8.333%")
          .contains("width: 56.667%");
      Path shot = Path.of("target/e2e-dashboard-waterfall.png").toAbsolutePath();
      Browser.screenshot(driver, shot);
      System.out.println("dashboard_waterfall_screenshot=" + shot);
    } finally {
      if (driver != null) {
        driver.quit();
      }
      cp.destroy();
      if (!cp.waitFor(20, TimeUnit.SECONDS)) {
        cp.destroyForcibly();
      }
    }
  }
}
