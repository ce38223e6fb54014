package dev.bowline.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's {@code chromium} driven by its {@code chromedriver} through Selenium, headless (the
 * binaries are given, so Selenium Manager never downloads anything). {@code .ci/run} installs both;
 * where they are missing the test is skipped with that reason.
 */
final class Browser {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path DRIVER = Path.of("/usr/bin/chromedriver");

  private Browser() {}

  /**
   * Loads {@code url}, waits for the page's script to render the dashboard, saves a screenshot to
   * {@code screenshot} and returns the texts of the elements the tests check.
   */
  static Map<String, String> render(String url, Path screenshot) throws Exception {
    WebDriver driver = start();
    try {
      driver.get(url);
      new WebDriverWait(driver, Duration.ofSeconds(30))
          .until(
              d ->
                  !d.findElements(By.cssSelector("#days .day")).isEmpty()
                      && !d.findElement(By.id("ad-text")).getText().isBlank());
      Map<String, String> out = new LinkedHashMap<>();
      for (String id :
          new String[] {
            "frontend-version", "forecast-version", "advertisement-version", "ad-text"
          }) {
        out.put(id, driver.findElement(By.id(id)).getText());
      }
      out.put("days", Integer.toString(driver.findElements(By.cssSelector("#days .day")).size()));
      screenshot(driver, screenshot);
      return out;
    } finally {
      driver.quit();
    }
  }

  /**
   * A headless Chromium (skips the test where Debian's chromium and chromium-driver are missing);
   * the caller quits it.
   */
  static WebDriver start() {
    Assumptions.assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "Debian chromium and chromium-driver are not installed (.ci/run installs them)");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--no-proxy-server",
        "--window-size=1400,1000");
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
    return new ChromeDriver(service, options);
  }

  /** Saves what {@code driver} shows as a PNG (a test artifact under target/). */
  static void screenshot(WebDriver driver, Path file) throws java.io.IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
  }
}
