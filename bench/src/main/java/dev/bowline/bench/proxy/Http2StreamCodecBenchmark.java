package dev.bowline.bench.proxy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/2 stream codec work of one proxied exchange of {@code PROTO=h2 bench/proxy/run.sh}
 * (decision 0042): h2load's request HEADERS (END_STREAM) in, the router's header changes, NGINX's 1
 * KB response (its head as the upstream codec decodes it, then its body) out as frames, on an
 * embedded channel. {@code netty} is Netty's {@code Http2StreamFrameToHttpObjectCodec(true)},
 * {@code bowline} the proxy's {@code Http2ServerStreamCodec}. {@link #main} interleaves both in one
 * JVM and measures the thread's CPU time and bytes allocated per exchange ({@code
 * bench/proxy/codec-bench.sh h2}).
 */
public class Http2StreamCodecBenchmark {
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  private static final AsciiString EXPECTED_TIMEOUT =
      AsciiString.cached("x-envoy-expected-rq-timeout-ms");
  private static final AsciiString SERVICE_TIME =
      AsciiString.cached("x-envoy-upstream-service-time");
  private static final AsciiString X_HTTP2_SCHEME = AsciiString.cached("x-http2-scheme");
  private static final AsciiString X_HTTP2_STREAM_ID = AsciiString.cached("x-http2-stream-id");
  private static final AsciiString HTTP = AsciiString.cached("http");
  private static final AsciiString ENVOY = AsciiString.cached("envoy");
  private static final AsciiString ONE = AsciiString.cached("1");
  private static final AsciiString ID = AsciiString.cached("3f0c2a9e-5b1d-4c7e-9a2f-6d8e1b4c7a90");
  private static final AsciiString TIMEOUT = AsciiString.cached("15000");
  private static final byte[] BODY = "x".repeat(1024).getBytes(StandardCharsets.US_ASCII);

  // as the HPACK decoder hands them out for h2load's requests: indexed entries are the same
  // objects each time
  private static final Http2Headers REQUEST =
      new DefaultHttp2Headers(true)
          .method(AsciiString.cached("GET"))
          .path(AsciiString.cached("/1k"))
          .scheme(AsciiString.cached("http"))
          .authority(AsciiString.cached("127.0.7.4:8080"))
          .add(AsciiString.cached("user-agent"), AsciiString.cached("h2load nghttp2/1.52.0"));

  private final EmbeddedChannel down;
  private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
  private final AsciiString[] responseNames;

  Http2StreamCodecBenchmark(String codec) throws Exception {
    ChannelHandler c =
        codec.equals("netty")
            ? new Http2StreamFrameToHttpObjectCodec(true)
            : (ChannelHandler)
                Class.forName("dev.bowline.proxy.transport.Http2ServerStreamCodec")
                    .getConstructor()
                    .newInstance();
    down = new EmbeddedChannel(c);
    // NGINX's names as the upstream HTTP/1 codec hands them out (its shared capitalised constants)
    responseNames = new AsciiString[7];
    String[] names = {
      "Server", "Date", "Content-Type", "Content-Length", "Last-Modified", "ETag", "Accept-Ranges"
    };
    var find =
        Class.forName("dev.bowline.proxy.transport.Http1ClientCodec$ResponseNames")
            .getDeclaredMethod("find", byte[].class, int.class, int.class);
    find.setAccessible(true);
    for (int i = 0; i < names.length; i++) {
      byte[] b = names[i].getBytes(StandardCharsets.US_ASCII);
      AsciiString shared = (AsciiString) find.invoke(null, b, 0, b.length);
      responseNames[i] = shared != null ? shared : AsciiString.of(names[i]);
    }
  }

  /** One exchange; returns the body bytes written. */
  int exchange() {
    down.writeInbound(new DefaultHttp2HeadersFrame(REQUEST, true));
    HttpRequest req = down.readInbound();
    HttpHeaders h = req.headers();
    h.remove(X_HTTP2_SCHEME);
    h.remove(X_HTTP2_STREAM_ID);
    h.set(X_FORWARDED_PROTO, HTTP);
    h.set(X_REQUEST_ID, ID);
    h.set(EXPECTED_TIMEOUT, TIMEOUT);
    ReferenceCountUtil.release(req);
    DefaultHttpResponse resp = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    HttpHeaders rh = resp.headers();
    rh.add(responseNames[0], AsciiString.cached("nginx/1.22.1"));
    rh.add(responseNames[1], AsciiString.cached("Thu, 26 Nov 2026 09:50:00 GMT"));
    rh.add(responseNames[2], AsciiString.cached("application/octet-stream"));
    rh.add(responseNames[3], AsciiString.cached("1024"));
    rh.add(responseNames[4], AsciiString.cached("Wed, 25 Nov 2026 10:00:00 GMT"));
    rh.add(responseNames[5], AsciiString.cached("\"6925f3a0-400\""));
    rh.add(responseNames[6], AsciiString.cached("bytes"));
    rh.set(SERVICE_TIME, ONE);
    rh.remove(HttpHeaderNames.KEEP_ALIVE);
    rh.remove(HttpHeaderNames.CONNECTION);
    rh.set(HttpHeaderNames.SERVER, ENVOY);
    down.writeOutbound(resp);
    down.writeOutbound(new DefaultLastHttpContent(alloc.directBuffer(1024).writeBytes(BODY)));
    int n = 0;
    Object o;
    while ((o = down.readOutbound()) != null) {
      if (o instanceof Http2DataFrame d) {
        n += d.content().readableBytes();
      }
      ReferenceCountUtil.release(o);
    }
    HttpObject none = down.readInbound();
    return none == null ? n : -1;
  }

  /**
   * {@code args[0]} seconds of warm-up of both codecs, then {@code args[1]} pairs of half-second
   * batches in alternating order: each pair's CPU ns per exchange, their ratio, the median ratio.
   */
  public static void main(String[] args) throws Exception {
    var threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    Http2StreamCodecBenchmark before = new Http2StreamCodecBenchmark("netty");
    Http2StreamCodecBenchmark after = new Http2StreamCodecBenchmark("bowline");
    long sink = 0;
    long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(Integer.parseInt(args[0]));
    while (System.nanoTime() < warmEnd) {
      for (int i = 0; i < 500; i++) {
        sink += before.exchange() + after.exchange();
      }
    }
    java.util.List<Double> ratios = new java.util.ArrayList<>();
    for (int batch = 0; batch < Integer.parseInt(args[1]); batch++) {
      double[] ns = new double[2];
      double[] bytes = new double[2];
      for (int k = 0; k < 2; k++) {
        int which = (batch + k) % 2;
        Http2StreamCodecBenchmark b = which == 0 ? before : after;
        long cpu0 = threads.getCurrentThreadCpuTime();
        long alloc0 = threads.getCurrentThreadAllocatedBytes();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        long n = 0;
        while (System.nanoTime() < end) {
          for (int i = 0; i < 500; i++) {
            sink += b.exchange();
          }
          n += 500;
        }
        ns[which] = (threads.getCurrentThreadCpuTime() - cpu0) / (double) n;
        bytes[which] = (threads.getCurrentThreadAllocatedBytes() - alloc0) / (double) n;
      }
      ratios.add(ns[1] / ns[0]);
      System.out.printf(
          "pair %d: netty %.0f ns %.0f B, bowline %.0f ns %.0f B, bowline/netty %.3f%n",
          batch, ns[0], bytes[0], ns[1], bytes[1], ns[1] / ns[0]);
    }
    java.util.Collections.sort(ratios);
    System.out.printf(
        "median bowline/netty %.3f (of %d pairs)%s%n",
        ratios.get(ratios.size() / 2), ratios.size(), sink == 42 ? " " : "");
  }
}
