package dev.bowline.proxy.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.bowline.proxy.transport.Loopback.IdleEvents;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link IdleTimeout} over a real loopback connection: the event comes only after neither reads nor
 * writes happened for the timeout, and a write is activity as a read is.
 */
class IdleTimeoutTest {
  private static final long TIMEOUT_MS = 1_000; // large beside the 100 ms steps: loaded CI
  private Loopback loopback;

  @BeforeEach
  void start() {
    loopback = new Loopback();
  }

  @AfterEach
  void stop() {
    loopback.close();
  }

  /** The server side of one connection, with the handler under test, and when its event came. */
  private record Server(
      Channel listening, CompletableFuture<Channel> accepted, IdleEvents events) {}

  private Server server() throws InterruptedException {
    IdleEvents events = new IdleEvents();
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    Channel listening =
        loopback.serve(
            ch -> {
              ch.pipeline().addLast(new IdleTimeout(Duration.ofMillis(TIMEOUT_MS)), events);
              accepted.complete(ch);
            });
    return new Server(listening, accepted, events);
  }

  private Channel connect(Server s) throws InterruptedException {
    return loopback.connect(
        s.listening().localAddress(), ch -> ch.pipeline().addLast(new IdleEvents()));
  }

  @Test
  void readsPostponeTheEventUntilTheConnectionIsQuietForTheTimeout() throws Exception {
    Server s = server();
    Channel client = connect(s);
    for (int i = 0; i < 15; i++) { // a byte every 100 ms for 1.5 times the timeout
      client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'x'})).sync();
      Thread.sleep(100);
    }
    long idleAt = s.events().idleAt.get(10, TimeUnit.SECONDS);
    assertThat(idleAt - s.events().lastReadAt)
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
    client.close().sync();
    s.listening().close().sync();
  }

  @Test
  void writesAreActivityToo() throws Exception {
    Server s = server();
    Channel client = connect(s);
    Channel accepted = s.accepted().get(10, TimeUnit.SECONDS);
    long lastWrite = 0;
    for (int i = 0; i < 15; i++) { // the server writes every 100 ms and reads nothing
      lastWrite = System.nanoTime();
      accepted.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'y'})).sync();
      Thread.sleep(100);
    }
    long idleAt = s.events().idleAt.get(10, TimeUnit.SECONDS);
    assertThat(idleAt - lastWrite)
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
    client.close().sync();
    s.listening().close().sync();
  }

  @Test
  void aRemovedHandlerFiresNothing() throws Exception {
    Server s = server();
    Channel client = connect(s);
    Channel accepted = s.accepted().get(10, TimeUnit.SECONDS);
    accepted.eventLoop().submit(() -> accepted.pipeline().remove(IdleTimeout.class)).sync();
    await()
        .during(Duration.ofMillis(TIMEOUT_MS * 3 / 2))
        .atMost(Duration.ofMillis(TIMEOUT_MS * 3))
        .until(() -> !s.events().idleAt.isDone());
    client.close().sync();
    s.listening().close().sync();
  }

  @Test
  void rejectsATimeoutThatIsNotPositive() {
    assertThatThrownBy(() -> new IdleTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("idle timeout must be positive: PT0S");
  }

  @Test
  void addToInstallsTheHandlerOnlyForAPositiveTimeout() {
    var channel = new io.netty.channel.embedded.EmbeddedChannel();
    IdleTimeout.addTo(channel.pipeline(), Duration.ZERO);
    IdleTimeout.addTo(channel.pipeline(), Duration.ofSeconds(-1));
    assertThat(channel.pipeline().get(IdleTimeout.class)).isNull();
    IdleTimeout.addTo(channel.pipeline(), Duration.ofSeconds(5));
    assertThat(channel.pipeline().get(IdleTimeout.class)).isNotNull();
    channel.finishAndReleaseAll();
  }
}
