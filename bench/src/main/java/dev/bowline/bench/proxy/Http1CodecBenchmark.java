package dev.bowline.bench.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The HTTP/1.1 codec work of one proxied exchange of {@code bench/proxy/run.sh} (wrk's request in
 * from downstream and out upstream, NGINX's 1 KB response in from upstream and out downstream, with
 * the headers the router adds), on two embedded channels. {@code server=netty, values=string} is
 * the codecs before decision 0040 (Netty's {@code HttpServerCodec}; {@code Http1ClientCodec} with
 * Netty's response decoder alone; the request id and timeout as {@code String}s), {@code
 * server=bowline, values=ascii} the proxy's ({@code Http1ServerCodec}, one-pass heads, {@code
 * AsciiString} values). {@link #main} with {@code paired} interleaves both in one JVM and measures
 * the thread's CPU time ({@code bench/proxy/codec-bench.sh}); as a JMH benchmark, run with {@code
 * -prof gc}: {@code gc.alloc.rate.norm} is bytes per exchange.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 6, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmx256m"})
public class Http1CodecBenchmark {
  @Param({"bowline"})
  public String server;

  @Param({"ascii"})
  public String values;

  private static final byte[] REQUEST =
      "GET /1k HTTP/1.1\r\nHost: 127.0.7.31:8080\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RESPONSE =
      ("HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 26 Nov 2026 09:50:00 GMT\r\n"
              + "Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n"
              + "Last-Modified: Wed, 25 Nov 2026 10:00:00 GMT\r\nConnection: keep-alive\r\n"
              + "ETag: \"6925f3a0-400\"\r\nAccept-Ranges: bytes\r\n\r\n"
              + "x".repeat(1024))
          .getBytes(StandardCharsets.US_ASCII);
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  private static final AsciiString EXPECTED_TIMEOUT =
      AsciiString.cached("x-envoy-expected-rq-timeout-ms");
  private static final AsciiString SERVICE_TIME =
      AsciiString.cached("x-envoy-upstream-service-time");
  private static final AsciiString HTTP = AsciiString.cached("http");
  private static final AsciiString ENVOY = AsciiString.cached("envoy");
  private static final AsciiString ONE = AsciiString.cached("1");
  private static final String ID = "3f0c2a9e-5b1d-4c7e-9a2f-6d8e1b4c7a90";
  private static final AsciiString ASCII_ID = AsciiString.cached(ID);
  private static final AsciiString ASCII_TIMEOUT = AsciiString.cached("15000");

  private EmbeddedChannel down;
  private EmbeddedChannel up;
  private ByteBufAllocator alloc;

  @Setup
  public void setup() throws Exception {
    HttpDecoderConfig downConfig = config(61440, 61440);
    ChannelHandler serverCodec =
        server.equals("netty")
            ? new HttpServerCodec(downConfig)
            : (ChannelHandler)
                Class.forName("dev.bowline.proxy.transport.Http1ServerCodec")
                    .getConstructor(HttpDecoderConfig.class)
                    .newInstance(downConfig);
    down = new EmbeddedChannel(serverCodec);
    up = new EmbeddedChannel(clientCodec(server.equals("bowline")));
    alloc = ByteBufAllocator.DEFAULT;
  }

  /**
   * The upstream codec; without {@code fastHeads} every head through Netty's decoder, as before
   * decision 0040 (its package-private factory `nettyHeads`, where the build has it).
   */
  private static ChannelHandler clientCodec(boolean fastHeads) throws Exception {
    Class<?> c = dev.bowline.proxy.transport.Http1ClientCodec.class;
    if (!fastHeads) {
      try {
        var k = c.getDeclaredMethod("nettyHeads", HttpDecoderConfig.class);
        k.setAccessible(true);
        return (ChannelHandler) k.invoke(null, config(4096, 65536));
      } catch (NoSuchMethodException before0040) {
        // a build before 0040: its only decoder is Netty's
      }
    }
    return new dev.bowline.proxy.transport.Http1ClientCodec(config(4096, 65536));
  }

  private static HttpDecoderConfig config(int line, int headers) {
    return dev.bowline.proxy.transport.Http1Decoding.config(line, headers, 65536);
  }

  private ByteBuf direct(byte[] b) {
    return alloc.directBuffer(b.length).writeBytes(b);
  }

  /** One exchange; returns the bytes written both ways. */
  @Benchmark
  public int exchange() {
    down.writeInbound(direct(REQUEST));
    io.netty.handler.codec.http.HttpRequest req = down.readInbound();
    HttpObject reqEnd = down.readInbound();
    HttpHeaders h = req.headers();
    h.set(X_FORWARDED_PROTO, HTTP);
    boolean ascii = values.equals("ascii");
    h.set(X_REQUEST_ID, ascii ? ASCII_ID : ID);
    h.set(EXPECTED_TIMEOUT, ascii ? ASCII_TIMEOUT : "15000");
    up.writeOutbound(req);
    up.writeOutbound(reqEnd);
    int bytes = drainOutbound(up);
    up.writeInbound(direct(RESPONSE));
    io.netty.handler.codec.http.HttpResponse resp = up.readInbound();
    HttpObject respEnd = up.readInbound();
    HttpHeaders rh = resp.headers();
    rh.set(SERVICE_TIME, ONE);
    rh.remove(HttpHeaderNames.KEEP_ALIVE);
    rh.remove(HttpHeaderNames.CONNECTION);
    rh.set(HttpHeaderNames.SERVER, ENVOY);
    down.writeOutbound(resp);
    down.writeOutbound(respEnd);
    return bytes + drainOutbound(down);
  }

  /**
   * CPU time per exchange of this thread (not wall time: on a machine others load, the time this
   * thread waits for a core is not counted), for {@code bench/proxy/codec-bench.sh}: after {@code
   * args[2]} seconds of warm-up, {@code args[3]} batches of one second each, one line per batch in
   * ns of CPU per exchange. {@code args[0]}, {@code args[1]}: server and values as the parameters.
   */
  public static void main(String[] args) throws Exception {
    if (args[0].equals("paired")) {
      paired(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      return;
    }
    Http1CodecBenchmark b = new Http1CodecBenchmark();
    b.server = args[0];
    b.values = args[1];
    b.setup();
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[2]));
    long sink = 0;
    while (System.nanoTime() < warmEnd) {
      for (int i = 0; i < 1000; i++) {
        sink += b.exchange();
      }
    }
    StringBuilder out = new StringBuilder();
    for (int batch = 0; batch < Integer.parseInt(args[3]); batch++) {
      long cpu0 = threads.getCurrentThreadCpuTime();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      long n = 0;
      while (System.nanoTime() < end) {
        for (int i = 0; i < 1000; i++) {
          sink += b.exchange();
        }
        n += 1000;
      }
      out.append(String.format("%.0f ", (threads.getCurrentThreadCpuTime() - cpu0) / (double) n));
    }
    System.out.println(out.toString().trim() + (sink == 42 ? " " : ""));
  }

  /**
   * Both variants in one JVM, interleaved: Netty's decoders with {@code String} values (the codecs
   * before 0040) and the proxy's codecs with {@code AsciiString} values, warmed up alike for {@code
   * warmup} seconds, then {@code batches} pairs of half-second batches in alternating order. Prints
   * each pair's CPU ns per exchange and their ratio, and the median ratio.
   */
  private static void paired(int warmup, int batches) throws Exception {
    var threads = java.lang.management.ManagementFactory.getThreadMXBean();
    Http1CodecBenchmark before = new Http1CodecBenchmark();
    before.server = "netty";
    before.values = "string";
    before.setup();
    Http1CodecBenchmark after = new Http1CodecBenchmark();
    after.server = "bowline";
    after.values = "ascii";
    after.setup();
    long sink = 0;
    long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
    while (System.nanoTime() < warmEnd) {
      for (int i = 0; i < 500; i++) {
        sink += before.exchange() + after.exchange();
      }
    }
    java.util.List<Double> ratios = new java.util.ArrayList<>();
    for (int batch = 0; batch < batches; batch++) {
      double[] ns = new double[2];
      for (int k = 0; k < 2; k++) {
        int which = (batch + k) % 2; // alternate which goes first
        Http1CodecBenchmark b = which == 0 ? before : after;
        long cpu0 = threads.getCurrentThreadCpuTime();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        long n = 0;
        while (System.nanoTime() < end) {
          for (int i = 0; i < 500; i++) {
            sink += b.exchange();
          }
          n += 500;
        }
        ns[which] = (threads.getCurrentThreadCpuTime() - cpu0) / (double) n;
      }
      ratios.add(ns[1] / ns[0]);
      System.out.printf(
          "pair %d: before %.0f ns, after %.0f ns, after/before %.3f%n",
          batch, ns[0], ns[1], ns[1] / ns[0]);
    }
    java.util.Collections.sort(ratios);
    System.out.printf(
        "median after/before %.3f (of %d pairs)%s%n",
        ratios.get(ratios.size() / 2), ratios.size(), sink == 42 ? " " : "");
  }

  private static int drainOutbound(EmbeddedChannel ch) {
    int n = 0;
    Object o;
    while ((o = ch.readOutbound()) != null) {
      if (o instanceof ByteBuf b) {
        n += b.readableBytes();
      }
      ReferenceCountUtil.release(o);
    }
    return n;
  }
}
