package dev.bowline.proxy.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * The fuzz targets' harness ends every connection it made. An HTTP/2 connection with a stream still
 * open closes gracefully, waiting for the stream, and {@code EmbeddedChannel.close()} cancels the
 * codec's timer that would end the wait: such a connection stayed open for good, and with a header
 * block half sent its frame reader's buffer was reported as a leak once collected (the LEAK reports
 * of the composed-frames fuzz run). {@link FuzzPipeline#close} closes past the handlers, as the
 * proxy's drain time does, and the buffer is released.
 */
class FuzzPipelineTest {
  /** The client preface, SETTINGS, stream 1 opened (no END_STREAM), stream 3's block half sent. */
  static byte[] streamOpenAndHalfBlock() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf()));
    b.writeBytes(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // SETTINGS
    // HEADERS stream 1, END_HEADERS only: POST /echo (static table: :method POST, :scheme http,
    // :path /; :authority literal)
    b.writeBytes(new byte[] {0, 0, 6, 1, 0x4, 0, 0, 0, 1, (byte) 0x83, (byte) 0x86, (byte) 0x84});
    b.writeBytes(new byte[] {0x41, 1, 't'});
    // HEADERS stream 3, END_STREAM without END_HEADERS: the CONTINUATION never comes
    byte[] value = new byte[1000];
    b.writeBytes(new byte[] {0, 0x3, (byte) 0xf1, 1, 0x1, 0, 0, 0, 3});
    b.writeBytes(new byte[] {(byte) 0x82, (byte) 0x86, (byte) 0x84, 0x00, 1, 'x', 0x7f});
    b.writeBytes(new byte[] {(byte) 0xe9, 0x06}); // 1000 = 127 + 873 (873 = 0x69 | 0x80, 6)
    b.writeBytes(value);
    return b.toByteArray();
  }

  @Test
  void aConnectionWithAStreamOpenIsClosedAndItsHalfSentBlockReleased() throws Exception {
    ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
    List<String> leaks = new CopyOnWriteArrayList<>();
    Logger logger = Logger.getLogger(ResourceLeakDetector.class.getName());
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            if (r.getMessage() != null && r.getMessage().contains("LEAK")) {
              leaks.add(r.getMessage());
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    logger.addHandler(capture);
    try {
      FuzzPipeline pipeline = new FuzzPipeline("AUTO");
      EmbeddedChannel ch = pipeline.connection();
      byte[] input = streamOpenAndHalfBlock();
      FuzzPipeline.feed(ch, input, new byte[0]);
      assertThat(ch.isOpen()).isTrue();
      Object o;
      while ((o = ch.readOutbound()) != null) {
        io.netty.util.ReferenceCountUtil.release(o);
      }
      FuzzPipeline.close(ch);
      assertThat(ch.isOpen()).as("closed, the stream open or not").isFalse();
      ch = null;
      for (int i = 0; i < 10; i++) {
        System.gc();
        Thread.sleep(50);
        for (int j = 0; j < 100; j++) {
          ByteBufAllocator.DEFAULT.buffer(64).release();
        }
      }
      assertThat(leaks).isEmpty();
    } finally {
      logger.removeHandler(capture);
      ResourceLeakDetector.setLevel(before);
    }
  }

  static {
    // keeps Unpooled loaded before the detector level changes (it allocates a static buffer)
    Unpooled.buffer(0).release();
  }
}
