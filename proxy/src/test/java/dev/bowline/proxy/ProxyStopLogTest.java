package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * {@code event=proxy_stopped} is logged before {@link Proxy#awaitTermination} returns. The proxy
 * process's {@code main} waits there and calls {@code System.exit} at once, so a line logged after
 * the wake-up raced the exit: a CI run of {@code POST /quitquitquit} lost it.
 */
class ProxyStopLogTest {
  @Test
  void theStopIsLoggedBeforeAnyoneWaitingForTheEndWakes() throws Exception {
    Proxy proxy =
        Proxy.start(
            new BootstrapLoader().parse("stop.yaml", "node: {id: stop, cluster: c}\n"),
            ProxyOptions.defaults().withWorkers(1));
    CountDownLatch woke = new CountDownLatch(1);
    Thread.ofPlatform()
        .start(
            () -> {
              try {
                proxy.awaitTermination();
                woke.countDown();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    // set when the stop line is logged: whether the waiter had already woken by then (it cannot
    // wake while the line is being logged if the latch opens after it; if it opened before, the
    // waiter wakes within the half second)
    AtomicReference<Boolean> wokeBeforeTheLine = new AtomicReference<>();
    Handler seen =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            if (r.getMessage() != null && r.getMessage().startsWith("event=proxy_stopped")) {
              try {
                wokeBeforeTheLine.set(woke.await(500, TimeUnit.MILLISECONDS));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger log = Logger.getLogger(Proxy.class.getName());
    log.addHandler(seen);
    try {
      proxy.close();
    } finally {
      log.removeHandler(seen);
    }
    assertThat(wokeBeforeTheLine.get())
        .as("the stop was logged, and before the waiter woke")
        .isFalse();
    assertThat(woke.await(30, TimeUnit.SECONDS)).as("the waiter woke after the close").isTrue();
  }
}
