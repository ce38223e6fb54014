package dev.bowline.proxy.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * HTTP/2 frames a client (or, for the upstream targets, a server) could send, chosen by the fuzzer:
 * the raw-bytes target rarely gets past HPACK, so this one writes HEADERS blocks with a real HPACK
 * encoder (the proxy's decoder stays in step with it across frames), from header names and values
 * that the routes and the codec look at, split into CONTINUATION frames where the fuzzer says, and
 * every other frame type with fields in and out of range. Frame headers are written by hand, so
 * lengths, flags and stream ids may be anything the fuzzer picks.
 */
public final class Http2Frames {
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int PRIORITY = 2;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  private static final int WINDOW_UPDATE = 8;
  private static final int CONTINUATION = 9;

  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int PADDED = 0x8;
  private static final int PRIORITY_FLAG = 0x20;

  private static final int[] STREAMS = {1, 1, 1, 3, 3, 5, 7, 9, 0, 2, 0x7fffffff};

  private static final String[] NAMES = {
    ":method", ":path", ":scheme", ":authority", ":status", ":protocol", "content-length", "te",
    "connection", "host", "x-h", "cookie", "transfer-encoding", "expect", "upgrade", "content-type",
    "grpc-timeout", "x-envoy-upstream-rq-timeout-ms", "x-request-id", "keep-alive", "X-Upper", ""
  };

  private static final String[] VALUES = {
    "GET",
    "POST",
    "HEAD",
    "CONNECT",
    "OPTIONS",
    "/a",
    "/r12",
    "/q?k=v",
    "/q?k%",
    "/x",
    "/",
    "*",
    "http",
    "https",
    "t",
    "h:443",
    "trailers",
    "100-continue",
    "0",
    "5",
    "-1",
    "chunked",
    "websocket",
    "application/grpc",
    "1S",
    "10",
    "a\u0000b",
    " v ",
    ""
  };

  private static final String[] STATUSES = {
    "200", "200", "204", "304", "404", "503", "100", "103", "101", "199", "099", "600", "2x0", ""
  };

  private Http2Frames() {}

  /**
   * The frames of one connection after the client preface, at most {@code max} of them, while the
   * input lasts.
   */
  static byte[] from(FuzzedDataProvider data, int max) {
    return from(data, max, false);
  }

  /**
   * The frames of one connection after the preface, at most {@code max}; with {@code responses} the
   * header blocks are a server's (a {@code :status}, in and out of range) instead of requests.
   */
  public static byte[] from(FuzzedDataProvider data, int max, boolean responses) {
    ByteBuf out = Unpooled.buffer();
    DefaultHttp2HeadersEncoder hpack = new DefaultHttp2HeadersEncoder();
    try {
      for (int n = 0; n < max && data.remainingBytes() > 0; n++) {
        int stream = data.pickValue(STREAMS);
        switch (data.consumeInt(0, 10)) {
          case 0, 1, 2 -> headers(data, out, hpack, stream, responses);
          case 3 -> {
            byte[] body = data.consumeBytes(data.consumeInt(0, 300));
            int flags = data.consumeBoolean() ? END_STREAM : 0;
            frame(out, DATA, flags, stream, body);
          }
          case 4 -> frame(out, RST_STREAM, 0, stream, int32(data.consumeInt(0, 14)));
          case 5 -> {
            if (data.consumeBoolean()) {
              frame(out, SETTINGS, 0x1, 0, new byte[0]); // ACK
            } else {
              int k = data.consumeInt(0, 4);
              ByteBuf p = Unpooled.buffer();
              for (int i = 0; i < k; i++) {
                p.writeShort(data.consumeInt(0, 8));
                p.writeInt(data.consumeInt());
              }
              frame(out, SETTINGS, 0, 0, ByteBufUtil.getBytes(p));
              p.release();
            }
          }
          case 6 -> frame(out, PING, data.consumeBoolean() ? 0x1 : 0, 0, data.consumeBytes(8));
          case 7 -> {
            ByteBuf p = Unpooled.buffer().writeInt(data.consumeInt()).writeInt(data.consumeInt());
            frame(out, GOAWAY, 0, 0, ByteBufUtil.getBytes(p));
            p.release();
          }
          case 8 ->
              frame(
                  out,
                  WINDOW_UPDATE,
                  0,
                  data.consumeBoolean() ? 0 : stream,
                  int32(data.consumeInt(0, Integer.MAX_VALUE)));
          case 9 -> {
            ByteBuf p = Unpooled.buffer().writeInt(data.consumeInt()).writeByte(data.consumeByte());
            frame(out, PRIORITY, 0, stream, ByteBufUtil.getBytes(p));
            p.release();
          }
          default ->
              frame(
                  out,
                  data.consumeInt(0, 255),
                  data.consumeByte() & 0xff,
                  stream,
                  data.consumeBytes(data.consumeInt(0, 64)));
        }
      }
      return ByteBufUtil.getBytes(out);
    } finally {
      out.release();
    }
  }

  /**
   * HEADERS (request or response head, or trailers), HPACK-encoded, optionally padded and with
   * priority, split into CONTINUATION frames; the last frame may leave END_HEADERS off.
   */
  private static void headers(
      FuzzedDataProvider data,
      ByteBuf out,
      DefaultHttp2HeadersEncoder hpack,
      int stream,
      boolean response) {
    Http2Headers h = new DefaultHttp2Headers(false);
    if (response) {
      if (data.consumeBoolean()) {
        h.status(data.pickValue(STATUSES));
      }
    } else if (data.consumeBoolean()) {
      h.method(data.pickValue(new String[] {"GET", "POST", "HEAD", "CONNECT"}))
          .path(data.pickValue(new String[] {"/a", "/r12", "/q?k=v", "/x", "/"}))
          .scheme("http")
          .authority("t");
    }
    int fields = data.consumeInt(0, 8);
    for (int i = 0; i < fields; i++) {
      String name = data.pickValue(NAMES);
      String value = data.consumeBoolean() ? data.pickValue(VALUES) : data.consumeString(16);
      h.add(name.isEmpty() ? data.consumeString(8) : name, value);
    }
    if (data.consumeBoolean()) {
      h.add("x-big", "v".repeat(data.consumeInt(0, 20_000))); // around the 2 KiB limit and 4x it
    }
    ByteBuf block = Unpooled.buffer();
    try {
      hpack.encodeHeaders(stream, h, block);
    } catch (Http2Exception | RuntimeException e) {
      block.release();
      return; // the client's encoder refused it; nothing was sent
    }
    byte[] bytes = ByteBufUtil.getBytes(block);
    block.release();
    int flags = data.consumeBoolean() ? END_STREAM : 0;
    ByteBuf first = Unpooled.buffer();
    if (data.consumeBoolean()) {
      flags |= PRIORITY_FLAG;
      first.writeInt(data.consumeInt()).writeByte(data.consumeByte());
    }
    int pad = data.consumeBoolean() ? data.consumeInt(0, 255) : -1;
    int at = bytes.length == 0 ? 0 : data.consumeInt(0, bytes.length);
    boolean endHeaders = data.consumeInt(0, 15) != 0;
    if (pad >= 0) {
      flags |= PADDED;
      ByteBuf p = Unpooled.buffer().writeByte(pad).writeBytes(first).writeBytes(bytes, 0, at);
      p.writeZero(pad);
      first.release();
      first = p;
    } else {
      first.writeBytes(bytes, 0, at);
    }
    boolean split = at < bytes.length;
    frame(
        out,
        HEADERS,
        flags | (split || !endHeaders ? 0 : END_HEADERS),
        stream,
        ByteBufUtil.getBytes(first));
    first.release();
    while (at < bytes.length) {
      int left = bytes.length - at;
      int n = data.remainingBytes() == 0 ? left : data.consumeInt(1, left);
      boolean last = at + n >= bytes.length;
      byte[] piece = java.util.Arrays.copyOfRange(bytes, at, at + n);
      frame(out, CONTINUATION, last && endHeaders ? END_HEADERS : 0, stream, piece);
      at += n;
    }
  }

  private static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  private static void frame(ByteBuf out, int type, int flags, int stream, byte[] payload) {
    out.writeMedium(payload.length);
    out.writeByte(type);
    out.writeByte(flags);
    out.writeInt(stream);
    out.writeBytes(payload);
  }
}
