package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.H2Client.Outcome;
import dev.bowline.proxy.RawH2.Frame;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A draining listener's HTTP/2 connections, over real sockets, as Envoy drains them: a shutdown
 * notice (GOAWAY, last stream id 2^31-1) and a PING; once the PING is answered, the GOAWAY naming
 * the last stream served; the streams up to it finish, a stream past it is refused (REFUSED_STREAM,
 * so the client retries it) and whatever the client had already sent on it does not end the
 * connection; then the connection closes. Drained by {@code /drain_listeners}, with a drain time
 * long enough that nothing here is cut by it.
 */
class Http2DrainProxyTest {
  static final String IP = "127.0.76.1";
  static final String BACKEND_IP = "127.0.76.2";

  Backend backend;
  SocketProxy proxy;
  int port;

  @BeforeEach
  void start() {
    backend = new Backend("a", BACKEND_IP);
    port = Ports.free(IP);
    proxy =
        SocketProxy.start(
            IP,
            ProxyOptions.defaults().withWorkers(1).withDrainTime(Duration.ofSeconds(60)),
            true,
            List.of(
                SocketProxy.listener("h2", IP, port, "codec_type: AUTO", SocketProxy.to("/", "a"))),
            List.of(SocketProxy.cluster("a", backend.ip(), backend.port(), "")));
  }

  @AfterEach
  void stop() {
    proxy.close();
    backend.close();
  }

  static Http2Headers post(String path) {
    return RawH2.request("POST", path);
  }

  @Test
  void aStreamRacingTheLastGoAwayIsRefusedAndTheStreamsBeforeItFinish() throws Exception {
    try (RawH2 c = proxy.h2(port)) {
      // stream 1: an upload still in progress when the drain starts
      c.frames((w, x) -> w.writeHeaders(x, 1, post("/echo"), 0, false, x.newPromise()));
      c.data(1, "first ", false);
      Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> proxy.stat("http.h2.downstream_rq_total"), n -> n >= 1);
      proxy.drainListeners();

      List<Frame> seen = new ArrayList<>();
      Frame notice = c.readUntil(RawH2.GOAWAY);
      assertThat(notice).as("the shutdown notice").isNotNull();
      assertThat(notice.errorCode()).isZero();
      assertThat(notice.lastStreamId()).isEqualTo(Integer.MAX_VALUE);

      // stream 3, opened before the client read the notice's PING: still served
      c.frames((w, x) -> w.writeHeaders(x, 3, post("/echo"), 0, false, x.newPromise()));
      c.data(3, "three", true);
      // reading on answers the PING; then the last GOAWAY comes
      c.readUntil(seen, s -> s.stream().anyMatch(f -> f.type() == RawH2.GOAWAY));
      Frame last = seen.stream().filter(f -> f.type() == RawH2.GOAWAY).findFirst().orElseThrow();
      assertThat(last.errorCode()).isZero();
      assertThat(last.lastStreamId()).isEqualTo(3);

      // stream 5 raced the last GOAWAY, and the client had sent part of its body too: refused, and
      // that body does not end the connection
      c.frames((w, x) -> w.writeHeaders(x, 5, post("/echo"), 0, false, x.newPromise()));
      c.data(5, "late", false);
      c.data(5, " and later", true);
      c.readUntil(seen, s -> RawH2.has(s, RawH2.RST_STREAM, 5));
      Frame refused =
          seen.stream()
              .filter(f -> f.type() == RawH2.RST_STREAM && f.stream() == 5)
              .findFirst()
              .orElseThrow();
      assertThat(refused.errorCode()).isEqualTo(RawH2.REFUSED_STREAM);

      // the streams before it finish: stream 1's upload ends now
      c.data(1, "second", true);
      c.readUntil(
          seen,
          s ->
              s.stream()
                  .filter(f -> f.type() == RawH2.DATA && f.endStream())
                  .map(Frame::stream)
                  .toList()
                  .containsAll(List.of(1, 3)));
      assertThat(RawH2.body(seen, 1)).isEqualTo("first second");
      assertThat(RawH2.body(seen, 3)).isEqualTo("three");
      assertThat(seen)
          .as("nothing was reset but the refused stream, and no GOAWAY said error")
          .noneMatch(f -> f.type() == RawH2.RST_STREAM && f.stream() != 5)
          .noneMatch(f -> f.type() == RawH2.GOAWAY && f.errorCode() != 0);
      // then the connection closes, all its streams done
      assertThat(c.closedByPeer()).isTrue();
    }
  }

  /** A GOAWAY the real client read. */
  record GoAway(int lastStreamId, long errorCode) {}

  /**
   * A real HTTP/2 client (Netty's codec) keeps uploads running across the drain and keeps opening
   * new streams, each with a body, until the last GOAWAY comes, so streams race both GOAWAYs: every
   * stream up to the last GOAWAY's id is answered whole; every later one is refused (by the proxy,
   * or by the client itself once it read the GOAWAY) and nothing else; no GOAWAY says error.
   */
  @Test
  void streamsKeepRunningAcrossTheDrainWithARealClient() throws Exception {
    List<GoAway> goAways = new CopyOnWriteArrayList<>();
    try (H2Client client = new H2Client()) {
      Channel conn =
          client.connect(
              IP,
              port,
              new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                  if (msg instanceof Http2GoAwayFrame g) {
                    goAways.add(new GoAway(g.lastStreamId(), g.errorCode()));
                  }
                  ReferenceCountUtil.release(msg);
                }
              });

      // four uploads of 12 pieces, one piece every 150 ms: running before, during and after
      List<CompletableFuture<Outcome>> uploads = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        uploads.add(H2Client.upload(conn, "/echo", "u" + i + "-", 12, 150));
      }
      // and short POSTs, eight at a time, each opened as one ends, until the last GOAWAY
      List<CompletableFuture<Outcome>> shorts = new CopyOnWriteArrayList<>();
      for (int i = 0; i < 8; i++) {
        keepOpening(conn, goAways, shorts);
      }
      // all of them under way before the drain
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> proxy.stat("http.h2.downstream_rq_total") >= 12);
      proxy.drainListeners();

      List<Outcome> all = new ArrayList<>();
      for (var u : uploads) {
        all.add(u.get(30, TimeUnit.SECONDS));
      }
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> shorts.stream().allMatch(CompletableFuture::isDone) && !conn.isOpen());
      for (var s : shorts) {
        all.add(s.get());
      }

      assertThat(goAways).as("a notice, then the last GOAWAY").hasSizeGreaterThanOrEqualTo(2);
      assertThat(goAways).allMatch(g -> g.errorCode() == 0, "NO_ERROR");
      assertThat(goAways.getFirst().lastStreamId()).isEqualTo(Integer.MAX_VALUE);
      int last = goAways.getLast().lastStreamId();
      for (int i = 0; i < uploads.size(); i++) {
        Outcome o = all.get(i);
        assertThat(o.status()).as("upload %s", o).isEqualTo("200");
        assertThat(o.body()).as("upload %s", o).isEqualTo(("u" + i + "-").repeat(12));
      }
      for (Outcome o : all.subList(uploads.size(), all.size())) {
        if (o.stream() > 0 && o.stream() <= last) {
          assertThat(o.status()).as("served: %s", o).isEqualTo("200");
          assertThat(o.body()).as("served: %s", o).isEqualTo("s-s-");
          assertThat(o.ended()).as("served: %s", o).isTrue();
        } else {
          // refused: by the proxy (REFUSED_STREAM) or unopened by the client after the GOAWAY
          assertThat(o.status()).as("refused: %s", o).isEmpty();
          assertThat(o.resetCode()).as("refused: %s", o).isIn(-1L, 7L);
        }
      }
      assertThat(all.subList(uploads.size(), all.size()))
          .as("short streams served before the last GOAWAY")
          .anyMatch(o -> o.status().equals("200"));
    }
  }

  /** Opens short POSTs on {@code conn} one after the other until a GOAWAY other than the notice. */
  static void keepOpening(
      Channel conn, List<GoAway> goAways, List<CompletableFuture<Outcome>> out) {
    if (!conn.isActive() || goAways.stream().anyMatch(g -> g.lastStreamId() != Integer.MAX_VALUE)) {
      return;
    }
    CompletableFuture<Outcome> f = H2Client.upload(conn, "/echo", "s-", 2, 0);
    out.add(f);
    f.whenComplete((o, e) -> keepOpening(conn, goAways, out));
  }
}
