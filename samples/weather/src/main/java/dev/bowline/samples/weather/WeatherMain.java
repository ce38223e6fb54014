package dev.bowline.samples.weather;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** {@code java -jar bowline-weather-all.jar --role forecast --version v2}: one role per process. */
public final class WeatherMain {

  private WeatherMain() {}

  /** Starts one app instance and serves until SIGTERM or Ctrl-C. Exit 2 on bad options. */
  public static void main(String[] args) throws InterruptedException {
    List<String> arguments = List.of(args);
    if (arguments.contains("--help") || arguments.contains("-h")) {
      System.out.print(WeatherOptions.USAGE);
      return;
    }
    WeatherOptions options;
    try {
      options = WeatherOptions.parse(arguments, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("weather: " + e.getMessage());
      System.exit(2);
      return;
    }
    WeatherApp app;
    try {
      app = WeatherApp.start(options);
    } catch (IOException | RuntimeException e) {
      System.err.println("weather: " + e.getMessage());
      System.exit(1);
      return;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  app.close();
                  stopped.countDown();
                },
                "weather-shutdown"));
    System.out.println("weather " + app.instance() + " serving on " + app.uri());
    stopped.await();
  }
}
