package dev.bowline.proxy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import java.util.ArrayList;
import java.util.List;

/**
 * HTTP/2 frame handling: the client preface, then arbitrary bytes, in arbitrary pieces, into the
 * real downstream pipeline ({@code codec_type: AUTO}: preface sniffer, frame codec, one child
 * channel per stream running the same per-request code as HTTP/1.1). Invariants: no exception
 * escapes or is swallowed; what the proxy writes is a well-formed frame sequence that starts with
 * its SETTINGS; if the proxy closed the connection, it said why with a GOAWAY first.
 *
 * <p>Input: the frames after the preface, then how many cut sizes follow at the end (one byte, mod
 * 9), then those sizes; a seed ending in a zero byte is sent whole. Seeds in {@code
 * src/test/resources/dev/bowline/proxy/fuzz/Http2FuzzTestInputs}.
 */
class Http2FuzzTest {
  private static final byte[] PREFACE = ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf());

  private final FuzzPipeline pipeline = new FuzzPipeline("AUTO");

  @FuzzTest(maxDuration = "10s")
  void anyFramesAfterThePrefaceAreHandled(FuzzedDataProvider data) {
    int nCuts = data.consumeInt(0, 8);
    byte[] frames = data.consumeBytes(Math.max(0, data.remainingBytes() - nCuts));
    byte[] cuts = data.consumeRemainingAsBytes();
    handled(frames, cuts);
  }

  /**
   * The same invariants for well-formed frame sequences that the fuzzer composes ({@link
   * Http2Frames}: real HPACK blocks, CONTINUATION splits, trailers, every frame type), so it
   * reaches requests, routes, bodies, trailers and the header limits, not only the frame parser.
   */
  @FuzzTest(maxDuration = "10s")
  void composedFramesAreHandled(FuzzedDataProvider data) {
    byte[] cuts = data.consumeBytes(data.consumeInt(0, 8));
    handled(Http2Frames.from(data, 24), cuts);
  }

  private void handled(byte[] frames, byte[] cuts) {
    byte[] input = new byte[PREFACE.length + frames.length];
    System.arraycopy(PREFACE, 0, input, 0, PREFACE.length);
    System.arraycopy(frames, 0, input, PREFACE.length, frames.length);

    EmbeddedChannel ch = pipeline.connection();
    FuzzPipeline.feed(ch, input, cuts);
    ch.checkException();
    boolean closed = !ch.isOpen();
    ByteBuf out = FuzzPipeline.outbound(ch);
    List<String> written;
    try {
      written = frames(out);
    } finally {
      out.release();
    }
    assertThat(written).as("the proxy opens with its SETTINGS").startsWith("SETTINGS");
    if (closed) {
      assertThat(written).as("a connection the proxy closed says why").contains("GOAWAY");
    }
    FuzzPipeline.close(ch);
    ch.checkException();
    assertThat(pipeline.takeWarnings()).isEmpty();
  }

  /** The frame types the proxy wrote, in order; fails if the bytes are not well-formed frames. */
  private static List<String> frames(ByteBuf out) {
    List<String> types = new ArrayList<>();
    EmbeddedChannel reader =
        new EmbeddedChannel(
            new ChannelInboundHandlerAdapter() {
              final DefaultHttp2FrameReader r = new DefaultHttp2FrameReader(false);

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) throws Http2Exception {
                ByteBuf b = (ByteBuf) msg;
                try {
                  r.maxFrameSize(Http2CodecUtil.MAX_FRAME_SIZE_UPPER_BOUND);
                  while (b.isReadable()) {
                    int before = b.readableBytes();
                    r.readFrame(ctx, b, new Recorder(types));
                    if (b.readableBytes() == before) {
                      break;
                    }
                  }
                  assertThat(b.isReadable()).as("a frame the proxy wrote is cut short").isFalse();
                } finally {
                  b.release();
                }
              }
            });
    reader.writeInbound(out.retain());
    reader.checkException();
    reader.finishAndReleaseAll();
    return types;
  }

  private static final class Recorder extends Http2FrameAdapter {
    private final List<String> types;

    Recorder(List<String> types) {
      this.types = types;
    }

    @Override
    public int onDataRead(
        ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean end) {
      types.add("DATA");
      return data.readableBytes() + padding;
    }

    @Override
    public void onHeadersRead(
        ChannelHandlerContext ctx,
        int streamId,
        Http2Headers headers,
        int padding,
        boolean endStream) {
      types.add("HEADERS");
    }

    @Override
    public void onHeadersRead(
        ChannelHandlerContext ctx,
        int streamId,
        Http2Headers headers,
        int streamDependency,
        short weight,
        boolean exclusive,
        int padding,
        boolean endStream) {
      types.add("HEADERS");
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
      types.add("RST_STREAM");
    }

    @Override
    public void onSettingsRead(
        ChannelHandlerContext ctx, io.netty.handler.codec.http2.Http2Settings settings) {
      types.add("SETTINGS");
    }

    @Override
    public void onSettingsAckRead(ChannelHandlerContext ctx) {
      types.add("SETTINGS_ACK");
    }

    @Override
    public void onPingAckRead(ChannelHandlerContext ctx, long data) {
      types.add("PING_ACK");
    }

    @Override
    public void onGoAwayRead(
        ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
      types.add("GOAWAY");
    }

    @Override
    public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int increment) {
      types.add("WINDOW_UPDATE");
    }
  }
}
