package dev.bowline.proxy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bowline.proxy.transport.Http1Decoding;
import dev.bowline.proxy.transport.Http1ServerCodec;
import dev.bowline.proxy.transport.ResponseDecoding;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTTP/1.1 request path from raw bytes, through the real downstream pipeline ({@code
 * codec_type: AUTO}, so the preface sniffer too): whatever arrives, in whatever pieces, the proxy
 * answers with well-formed HTTP/1.1 responses (or nothing yet), no exception escapes or is
 * swallowed, and closing the connection afterwards is clean.
 *
 * <p>Input: the bytes a client sends, then how many cut sizes follow at the end (one byte, mod 9),
 * then those sizes; a seed ending in a zero byte is sent whole. Seeds in {@code
 * src/test/resources/dev/bowline/proxy/fuzz/Http1FuzzTestInputs}.
 */
class Http1FuzzTest {
  private static final String H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

  private final FuzzPipeline pipeline = new FuzzPipeline("AUTO");

  // HTTP/1.1's tokens and the pipeline's routes (http1.dict): without them the fuzzer spends its
  // time finding "chunked" or "Upgrade" one byte at a time
  @FuzzTest(maxDuration = "10s")
  @DictionaryFile(resourcePath = "/dev/bowline/proxy/fuzz/http1.dict")
  void anyBytesGetWellFormedAnswers(FuzzedDataProvider data) {
    int nCuts = data.consumeInt(0, 8);
    byte[] input = data.consumeBytes(Math.max(0, data.remainingBytes() - nCuts));
    byte[] cuts = data.consumeRemainingAsBytes();

    EmbeddedChannel ch = pipeline.connection();
    FuzzPipeline.feed(ch, input, cuts);
    ch.checkException();
    ByteBuf out = FuzzPipeline.outbound(ch);
    try {
      String sent = new String(input, StandardCharsets.ISO_8859_1);
      if (!out.isReadable()) {
        // nothing answered yet
      } else if (sent.startsWith(H2_PREFACE)) {
        // codec_type AUTO took the connection for HTTP/2 (Http2FuzzTest's): it answers in frames
        assertThat(out.getByte(out.readerIndex() + 3))
            .as("HTTP/2 SETTINGS first")
            .isEqualTo((byte) 4);
      } else if (sent.contains("HEAD") || sent.contains("CONNECT")) {
        // which answers have no body depends on requests this decoder does not see: the status
        // line of the first answer is all that can be checked
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 ");
      } else {
        assertWellFormedResponses(out);
      }
    } finally {
      out.release();
    }
    FuzzPipeline.close(ch);
    ch.checkException();
    assertThat(pipeline.takeWarnings()).isEmpty();
  }

  /**
   * The proxy's request decoder against Netty's, both fed the same bytes in the same reads (cut as
   * {@link #anyBytesGetWellFormedAnswers} cuts them): the same messages, heads, contents and
   * failures. A head split across reads waits for its end and is decoded on the fast path (decision
   * 0037, addendum 16); whatever it waits for, it must end as Netty's decoder ends it.
   */
  @FuzzTest(maxDuration = "10s")
  @DictionaryFile(resourcePath = "/dev/bowline/proxy/fuzz/http1.dict")
  void splitDeliveryDecodesAsNettysDecoder(FuzzedDataProvider data) {
    int nCuts = data.consumeInt(0, 8);
    byte[] input = data.consumeBytes(Math.max(0, data.remainingBytes() - nCuts));
    byte[] cuts = data.consumeRemainingAsBytes();
    assertThat(decode(new Http1ServerCodec(Http1Decoding.config(4096, 4096, 8192)), input, cuts))
        .isEqualTo(
            decode(new HttpServerCodec(Http1Decoding.config(4096, 4096, 8192)), input, cuts));
  }

  /** What {@code codec} decodes from {@code input} in reads cut by {@code cuts}, as text. */
  private static List<String> decode(ChannelHandler codec, byte[] input, byte[] cuts) {
    EmbeddedChannel ch = new EmbeddedChannel(codec);
    List<String> seen = new ArrayList<>();
    int at = 0;
    int i = 0;
    while (at < input.length) {
      int n = cuts.length == 0 ? input.length : 1 + (cuts[i++ % cuts.length] & 0xff);
      n = Math.min(n, input.length - at);
      try {
        ch.writeInbound(Unpooled.copiedBuffer(input, at, n));
      } catch (RuntimeException e) {
        seen.add("exception " + e.getClass().getSimpleName() + " " + e.getMessage());
      }
      at += n;
      drain(ch, seen);
    }
    try {
      ch.finish();
    } catch (RuntimeException e) {
      seen.add("exception " + e.getClass().getSimpleName() + " " + e.getMessage());
    }
    drain(ch, seen);
    return seen;
  }

  private static void drain(EmbeddedChannel ch, List<String> seen) {
    for (Object o; (o = ch.readInbound()) != null; ) {
      seen.add(ResponseDecoding.describe(o));
      ReferenceCountUtil.release(o);
    }
  }

  /** Decodes what the proxy wrote as HTTP/1.1 responses: every one must parse. */
  private static void assertWellFormedResponses(ByteBuf out) {
    if (!out.isReadable()) {
      return;
    }
    EmbeddedChannel client = new EmbeddedChannel(new HttpResponseDecoder());
    client.writeInbound(out.retain());
    client.finish();
    Object o;
    int responses = 0;
    while ((o = client.readInbound()) != null) {
      try {
        HttpObject h = (HttpObject) o;
        assertThat(h.decoderResult().isSuccess())
            .as("the proxy wrote a malformed response: %s", h.decoderResult())
            .isTrue();
        if (h instanceof HttpResponse r) {
          responses++;
          assertThat(r.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        } else {
          assertThat(h).isInstanceOf(HttpContent.class);
        }
      } finally {
        ReferenceCountUtil.release(o);
      }
    }
    assertThat(responses).isPositive();
  }
}
