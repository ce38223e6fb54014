package dev.bowline.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bowline.proxy.fuzz.Http2Frames;
import io.netty.channel.ChannelOption;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.ResourceLeakDetector;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Upstream HTTP/2 from a server that sends anything: after its valid SETTINGS, one to three
 * requests go out as streams of one pooled connection (the proxy's real pipeline, {@link
 * H2Pool#initPipeline}, with {@link H2Connection} and a real {@link H2Pool#attach} of {@link
 * H2Stream}s, numbered 3, 5, 7 as Netty's client codec numbers them), then arbitrary frames come
 * back, in arbitrary pieces, and the connection ends. Invariants: every request ends exactly once,
 * with a response in order (interim heads, one final head, content, its end) or a reset with one of
 * Envoy's reasons; no exception other than the HTTP/2 codec's own errors reaches a pipeline, and
 * those end their stream; every stream gives its slot back to the connection; nothing stays counted
 * in flight; every buffer is released (counted by the fixture's allocator, and Netty's detector is
 * paranoid); and a well-formed response on a new connection then parses.
 *
 * <p>Input ({@link #anyFramesAfterTheSettings}): the frames, then the cut sizes, then one byte with
 * the requests' methods (two bits each: GET, HEAD, POST with a body, CONNECT), one with their count
 * (mod 3, plus one) and one with the number of cut sizes (mod 9); the composed target takes frames
 * that {@link Http2Frames} writes with real HPACK response heads. Seeds in {@code
 * src/test/resources/dev/bowline/proxy/upstream/Http2UpstreamFuzzTestInputs}.
 */
class Http2UpstreamFuzzTest {
  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
  }

  private static final HttpMethod[] METHODS = {
    HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.CONNECT
  };

  /** The reset reasons of a stream on an upstream HTTP/2 connection (Envoy's). */
  private static final Set<String> REASONS =
      Set.of(
          H2Stream.REMOTE_RESET,
          H2Stream.REFUSED,
          "connection termination",
          UpstreamConnection.PROTOCOL_ERROR);

  /** The server's SETTINGS, empty: its preface. */
  private static final byte[] SETTINGS = {0, 0, 0, 4, 0, 0, 0, 0, 0};

  private final UpstreamFixture fixture = new UpstreamFixture("http2_protocol_options: {}");

  @FuzzTest(maxDuration = "10s")
  void anyFramesAfterTheSettings(FuzzedDataProvider data) {
    int nCuts = data.consumeInt(0, 8);
    int count = data.consumeInt(1, 3);
    int methodBits = data.consumeInt(0, 63);
    byte[] frames = data.consumeBytes(Math.max(0, data.remainingBytes() - nCuts));
    byte[] cuts = data.consumeRemainingAsBytes();
    handled(methods(count, methodBits), frames, cuts);
  }

  /**
   * The same invariants for frame sequences {@link Http2Frames} composes as a server would send
   * them (real HPACK heads with a {@code :status}, CONTINUATION splits, trailers, every frame
   * type), so the fuzzer reaches responses, bodies and trailers, not only the frame parser.
   */
  @FuzzTest(maxDuration = "10s")
  void composedFramesAreHandled(FuzzedDataProvider data) {
    int count = data.consumeInt(1, 3);
    int methodBits = data.consumeInt(0, 63);
    byte[] cuts = data.consumeBytes(data.consumeInt(0, 8));
    handled(methods(count, methodBits), Http2Frames.from(data, 24, true), cuts);
  }

  static List<HttpMethod> methods(int count, int bits) {
    List<HttpMethod> m = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      m.add(METHODS[(bits >> (2 * i)) & 3]);
    }
    return m;
  }

  void handled(List<HttpMethod> methods, byte[] frames, byte[] cuts) {
    List<Exchange> exchanges = exchange(methods, frames, cuts);
    for (Exchange e : exchanges) {
      assertThat(e.violations).as("%s: %s", e.method, e.events).isEmpty();
      assertThat(e.ended || e.reset != null).as("request %s ended", e.method).isTrue();
    }
    fixture.assertNothingInFlight();
    fixture.alloc.assertAllReleased();

    // a new connection is unaffected: HEADERS :status 200 (HPACK static index 8), DATA "ok", on
    // stream 3 (Netty's client codec keeps stream 1 for an h2c upgrade)
    byte[] ok = {0, 0, 1, 1, 0x4, 0, 0, 0, 3, (byte) 0x88, 0, 0, 2, 0, 0x1, 0, 0, 0, 3, 'o', 'k'};
    List<Exchange> fresh = exchange(List.of(HttpMethod.GET), ok, new byte[0]);
    assertThat(fresh.getFirst().events).containsExactly("head 200", "body ok", "end");
    fixture.assertNothingInFlight();
    fixture.alloc.assertAllReleased();
  }

  /**
   * A new connection: the server's SETTINGS, the requests as streams, then {@code frames} in pieces
   * of the {@code cuts} sizes; then the connection goes away as a lost TCP connection does.
   */
  private List<Exchange> exchange(List<HttpMethod> methods, byte[] frames, byte[] cuts) {
    EmbeddedChannel ch = fixture.channel();
    List<Throwable> connectionExceptions = new ArrayList<>();
    List<Throwable> streamExceptions = new ArrayList<>();
    H2Pool pool = new H2Pool(fixture.worker, fixture.host, fixture.cluster);
    H2Connection c = new H2Connection(pool, 100, H2Pool.DEFAULT_MAX_STREAMS, 1);
    H2Pool.initPipeline(ch.pipeline(), fixture.cluster.config.policy(), c);
    ch.pipeline()
        .addBefore(
            ch.pipeline().context(c).name(),
            "exceptions",
            new UpstreamFixture.Exceptions(connectionExceptions));
    c.bind(ch, fixture.worker.h2StreamCodec);
    c.streams.option(ChannelOption.ALLOCATOR, fixture.alloc);
    ch.releaseOutbound(); // the client preface
    ch.writeInbound(fixture.alloc.copy(SETTINGS, 0, SETTINGS.length));
    ch.runPendingTasks();
    assertThat(c.canTake()).as("ready after the server's SETTINGS").isTrue();

    List<Exchange> exchanges = new ArrayList<>();
    for (HttpMethod m : methods) {
      Exchange e = new Exchange(m, REASONS);
      exchanges.add(e);
      pool.attach(
          c,
          e,
          new Worker.AcquireCallback() {
            @Override
            public void acquired(Upstream upstream) {
              var p = upstream.channel().pipeline();
              p.addBefore(
                  p.context(H2Stream.class).name(),
                  "exceptions",
                  new UpstreamFixture.Exceptions(streamExceptions));
              upstream.channel().writeAndFlush(e.request());
            }

            @Override
            public void failed(String reason) {
              e.onUpstreamReset(reason);
            }
          });
    }
    ch.runPendingTasks();
    ch.releaseOutbound();

    int at = 0;
    int i = 0;
    while (at < frames.length && ch.isOpen()) {
      int n = cuts.length == 0 ? frames.length : 1 + (cuts[i++ % cuts.length] & 0xff);
      n = Math.min(n, frames.length - at);
      try {
        ch.writeInbound(fixture.alloc.copy(frames, at, n));
      } catch (Exception e) {
        // EmbeddedChannel runs its pending tasks inside unsafe().close() (EmbeddedUnsafe calls
        // maybeRunPendingTasks), so a close during a read deregisters the channel and tears its
        // pipeline down at once, while the codec goes on decoding the rest of that read: a
        // connection error it raises then (a second GOAWAY whose last stream id grows) finds no
        // handler but the tail. A real event loop deregisters after the read, and H2Connection
        // takes it. Only that is let pass: the codec's own error, with the pipeline gone.
        if (ch.pipeline().get(H2Connection.class) != null || !http2Error(e)) {
          throw e;
        }
      }
      ch.runPendingTasks();
      ch.releaseOutbound();
      at += n;
    }
    // the peer goes away: closed past the handlers (a graceful close would wait for open streams)
    if (ch.isOpen()) {
      ch.unsafe().close(ch.unsafe().voidPromise());
    }
    ch.runPendingTasks();
    ch.checkException();
    ch.finishAndReleaseAll();

    // the frame codec passes on the connection errors it answered with GOAWAY (it closes the
    // connection, gracefully while streams are open): any other exception is a bug
    for (Throwable t : connectionExceptions) {
      assertThat(http2Error(t)).as("an exception on the connection: %s", t).isTrue();
    }
    for (Throwable t : streamExceptions) {
      assertThat(http2Error(t)).as("an exception on a stream: %s", t).isTrue();
    }
    assertThat(c.active).as("streams still holding a slot of the closed connection").isZero();
    return exchanges;
  }

  /** Whether {@code t} is the HTTP/2 codec's own error (a {@link Http2Exception} inside). */
  private static boolean http2Error(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof Http2Exception) {
        return true;
      }
    }
    return false;
  }
}
