package dev.bowline.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * A bare HTTP/2 client over a socket, frame by frame, for tests that must send what a proper client
 * never would (frames on the wrong stream, bad pseudo-headers, more streams than allowed) and see
 * exactly which frames come back.
 */
final class RawH2 implements AutoCloseable {
  static final int DATA = 0;
  static final int HEADERS = 1;
  static final int RST_STREAM = 3;
  static final int SETTINGS = 4;
  static final int PING = 6;
  static final int GOAWAY = 7;
  static final int WINDOW_UPDATE = 8;
  static final int CONTINUATION = 9;
  static final int PROTOCOL_ERROR = 1;
  static final int INTERNAL_ERROR = 2;
  static final int COMPRESSION_ERROR = 9;
  static final int REFUSED_STREAM = 7;

  /** One frame read back; for HEADERS, {@code headers} is the decoded block. */
  record Frame(int type, int flags, int stream, byte[] payload, Http2Headers headers) {
    /** RST_STREAM's or GOAWAY's error code. */
    long errorCode() {
      int at = type == GOAWAY ? 4 : 0;
      return Integer.toUnsignedLong(
          (payload[at] & 0xff) << 24
              | (payload[at + 1] & 0xff) << 16
              | (payload[at + 2] & 0xff) << 8
              | (payload[at + 3] & 0xff));
    }

    /** GOAWAY's last stream id. */
    int lastStreamId() {
      return ((payload[0] & 0x7f) << 24
          | (payload[1] & 0xff) << 16
          | (payload[2] & 0xff) << 8
          | (payload[3] & 0xff));
    }

    boolean endStream() {
      return (flags & 0x1) != 0;
    }

    /** The text of a DATA frame's payload. */
    String text() {
      return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "Frame[type=" + type + " stream=" + stream + " flags=" + flags + "]";
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
  private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
  private final EmbeddedChannel encoderChannel =
      new EmbeddedChannel(new ChannelOutboundHandlerAdapter());

  RawH2(String ip, int port) throws IOException {
    this(new Socket(ip, port));
  }

  /** A connection to {@code ip:port} past its opening: preface sent, SETTINGS exchanged. */
  static RawH2 open(String ip, int port) throws IOException {
    return new RawH2(ip, port).preface().handshake();
  }

  private RawH2(Socket socket) throws IOException {
    this.socket = socket;
    socket.setSoTimeout(5000);
    in = new DataInputStream(socket.getInputStream());
  }

  /**
   * The server side of the next connection {@code server} accepts, for tests that play an HTTP/2
   * upstream frame by frame: reads the client's preface and sends an empty SETTINGS. {@link
   * #read()} then answers the client's SETTINGS and PINGs as a server does.
   */
  static RawH2 accept(java.net.ServerSocket server) throws IOException {
    RawH2 c = new RawH2(server.accept());
    byte[] preface = c.in.readNBytes(Http2CodecUtil.connectionPrefaceBuf().readableBytes());
    if (!java.util.Arrays.equals(
        preface, ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf()))) {
      c.close();
      throw new IOException("no HTTP/2 client preface");
    }
    return c.frames((w, ctx) -> w.writeSettings(ctx, new Http2Settings(), ctx.newPromise()));
  }

  /** HEADERS with {@code headers} on {@code stream}, ending it if {@code end}. */
  RawH2 headers(int stream, Http2Headers headers, boolean end) throws IOException {
    return frames((w, c) -> w.writeHeaders(c, stream, headers, 0, end, c.newPromise()));
  }

  /** One DATA frame of {@code bytes} on {@code stream}, ending it if {@code end}. */
  RawH2 data(int stream, byte[] bytes, boolean end) throws IOException {
    return frames(
        (w, c) -> w.writeData(c, stream, Unpooled.wrappedBuffer(bytes), 0, end, c.newPromise()));
  }

  /** The connection's socket. */
  Socket socket() {
    return socket;
  }

  /** Writes raw bytes. */
  RawH2 send(byte[] bytes) throws IOException {
    socket.getOutputStream().write(bytes);
    socket.getOutputStream().flush();
    return this;
  }

  /** The client preface and an empty SETTINGS frame. */
  RawH2 preface() throws IOException {
    return preface(new Http2Settings());
  }

  /** The client preface and a SETTINGS frame of {@code settings}. */
  RawH2 preface(Http2Settings settings) throws IOException {
    send(ByteBufUtil.getBytes(Http2CodecUtil.connectionPrefaceBuf()));
    return frames((w, c) -> w.writeSettings(c, settings, c.newPromise()));
  }

  interface Writes {
    void write(DefaultHttp2FrameWriter w, ChannelHandlerContext ctx) throws Exception;
  }

  /** Encodes frames with Netty's writer (which writes whatever it is given) and sends them. */
  RawH2 frames(Writes writes) throws IOException {
    ChannelHandlerContext ctx = encoderChannel.pipeline().firstContext();
    try {
      writes.write(writer, ctx);
    } catch (Exception e) {
      throw new IOException(e);
    }
    encoderChannel.flush();
    ByteBuf all = Unpooled.buffer();
    Object o;
    while ((o = encoderChannel.readOutbound()) != null) {
      all.writeBytes((ByteBuf) o);
      ((ByteBuf) o).release();
    }
    byte[] bytes = ByteBufUtil.getBytes(all);
    all.release();
    return send(bytes);
  }

  /** HEADERS of a GET for {@code path}, ending the stream if {@code end}. */
  RawH2 get(int stream, String path, boolean end) throws IOException {
    return frames(
        (w, c) ->
            w.writeHeaders(
                c,
                stream,
                new DefaultHttp2Headers().method("GET").path(path).scheme("http").authority("test"),
                0,
                end,
                c.newPromise()));
  }

  private boolean settingsSeen;
  private boolean settingsAcked;
  private final java.util.Map<Integer, Long> peerSettings = new java.util.HashMap<>();
  private long connectionWindowIncrements;
  private final java.util.Set<Long> pingAcks = new java.util.HashSet<>();

  /** The values of the peer's SETTINGS read so far, by identifier. */
  java.util.Map<Integer, Long> peerSettings() {
    return peerSettings;
  }

  /** What the peer's WINDOW_UPDATEs on stream 0 read so far added to the connection window. */
  long connectionWindowIncrements() {
    return connectionWindowIncrements;
  }

  /**
   * Reads frames (dropping them) until a WINDOW_UPDATE on stream 0 came; at once if one did
   * already.
   */
  RawH2 awaitConnectionWindow() throws IOException {
    while (connectionWindowIncrements == 0) {
      if (readFrame(true) == null) {
        throw new EOFException("closed before a connection WINDOW_UPDATE");
      }
    }
    return this;
  }

  /** Reads frames (dropping them) until the ACK of the PING with {@code data} came. */
  RawH2 awaitPingAck(long data) throws IOException {
    while (!pingAcks.contains(data)) {
      if (readFrame(true) == null) {
        throw new EOFException("closed before the PING's ACK");
      }
    }
    return this;
  }

  /**
   * Reads frames into {@code seen} until {@code done} holds of them (answering PINGs on the way);
   * fails if the connection closes first.
   */
  java.util.List<Frame> readUntil(
      java.util.List<Frame> seen, java.util.function.Predicate<java.util.List<Frame>> done)
      throws IOException {
    while (!done.test(seen)) {
      Frame f = read();
      if (f == null) {
        throw new EOFException("connection closed; frames so far: " + seen);
      }
      seen.add(f);
    }
    return seen;
  }

  /** Whether {@code frames} has one of {@code type} on {@code stream}. */
  static boolean has(java.util.List<Frame> frames, int type, int stream) {
    return frames.stream().anyMatch(f -> f.type() == type && f.stream() == stream);
  }

  /** The text of the DATA frames of {@code stream} in {@code frames}. */
  static String body(java.util.List<Frame> frames, int stream) {
    StringBuilder sb = new StringBuilder();
    for (Frame f : frames) {
      if (f.type() == DATA && f.stream() == stream) {
        sb.append(f.text());
      }
    }
    return sb.toString();
  }

  /** A request's headers: {@code method} {@code path}, scheme http, authority test. */
  static Http2Headers request(String method, String path) {
    return new DefaultHttp2Headers().method(method).path(path).scheme("http").authority("test");
  }

  /** A GET's headers with an unknown pseudo-header, which HTTP/2 forbids. */
  static Http2Headers invalidRequest() {
    return new DefaultHttp2Headers(false)
        .method("GET")
        .path("/x")
        .scheme("http")
        .authority("test")
        .add(":bogus", "1");
  }

  /** DATA with {@code text} on {@code stream}, ending it if {@code end}. */
  RawH2 data(int stream, String text, boolean end) throws IOException {
    return data(stream, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), end);
  }

  /** Whether the peer closed the connection within {@code max} (reading and dropping frames). */
  boolean closedWithin(java.time.Duration max) throws IOException {
    long end = System.nanoTime() + max.toNanos();
    byte[] buf = new byte[4096];
    InputStream raw = socket.getInputStream();
    try {
      while (System.nanoTime() < end) {
        if (raw.read(buf) < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
    return false;
  }

  /**
   * Reads until the proxy's SETTINGS arrived (and was acknowledged) and our own was acknowledged,
   * so the limits it announced are in force.
   */
  RawH2 handshake() throws IOException {
    while (!(settingsSeen && settingsAcked)) {
      if (readFrame(true) == null) {
        throw new EOFException("closed during the handshake");
      }
    }
    return this;
  }

  /**
   * The next frame, answering the proxy's SETTINGS and PINGs with an ACK on the way, as a client
   * does; null once closed.
   */
  Frame read() throws IOException {
    return readFrame(false);
  }

  /**
   * The next frame; with {@code handshake}, the control frames it takes on the way (SETTINGS, a
   * WINDOW_UPDATE, a PING's ACK) are returned too, so a caller waiting for one of them wakes up.
   */
  private Frame readFrame(boolean handshake) throws IOException {
    while (true) {
      int len;
      int type;
      int flags;
      int stream;
      byte[] payload;
      try {
        len = in.readUnsignedByte() << 16 | in.readUnsignedShort();
        type = in.readUnsignedByte();
        flags = in.readUnsignedByte();
        stream = in.readInt() & 0x7fffffff;
        payload = new byte[len];
        in.readFully(payload);
      } catch (EOFException | java.net.SocketException e) {
        return null; // closed, maybe in the middle of a frame (a reset drops what was unread)
      }
      if (type == SETTINGS) {
        if ((flags & 0x1) == 0) {
          settingsSeen = true;
          var b = java.nio.ByteBuffer.wrap(payload);
          while (b.remaining() >= 6) {
            peerSettings.put(b.getShort() & 0xffff, Integer.toUnsignedLong(b.getInt()));
          }
          frames((w, c) -> w.writeSettingsAck(c, c.newPromise()));
        } else {
          settingsAcked = true;
        }
        if (handshake) {
          return new Frame(type, flags, stream, payload, null);
        }
        continue;
      }
      if (type == PING) {
        long data = java.nio.ByteBuffer.wrap(payload).getLong();
        if ((flags & 0x1) == 0) {
          frames((w, c) -> w.writePing(c, true, data, c.newPromise()));
        } else {
          pingAcks.add(data);
          if (handshake) {
            return new Frame(type, flags, stream, payload, null);
          }
        }
        continue;
      }
      if (type == WINDOW_UPDATE) {
        if (stream == 0) {
          connectionWindowIncrements += java.nio.ByteBuffer.wrap(payload).getInt() & 0x7fffffff;
        }
        if (handshake) {
          return new Frame(type, flags, stream, payload, null);
        }
        continue;
      }
      Http2Headers headers = null;
      if (type == HEADERS) {
        int pad = (flags & 0x8) != 0 ? payload[0] & 0xff : 0;
        int from = ((flags & 0x8) != 0 ? 1 : 0) + ((flags & 0x20) != 0 ? 5 : 0);
        try {
          headers =
              decoder.decodeHeaders(
                  stream, Unpooled.wrappedBuffer(payload, from, payload.length - from - pad));
        } catch (io.netty.handler.codec.http2.Http2Exception e) {
          throw new IOException(e);
        }
      }
      return new Frame(type, flags, stream, payload, headers);
    }
  }

  /** Frames until one of {@code type} arrives (returned) or the connection closes (null). */
  Frame readUntil(int type) throws IOException {
    Frame f;
    while ((f = read()) != null && f.type() != type) {
      // skip
    }
    return f;
  }

  /** Whether the proxy closed the connection (reads to the end, at most the socket timeout). */
  boolean closedByPeer() throws IOException {
    try {
      while (read() != null) {
        // drain
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    encoderChannel.finishAndReleaseAll();
    socket.close();
  }
}
