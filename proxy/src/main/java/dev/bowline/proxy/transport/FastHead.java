package dev.bowline.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The common, strictly formed HTTP/1 message head, decoded in one pass, for the proxy's HTTP/1
 * codecs; everything else stays with Netty's decoder, whose output it reproduces.
 *
 * <p>Netty's decoder copies each header line into a scratch buffer and makes a {@code String} of
 * every header value (in a private method), which the encoder on the other side of the proxy then
 * writes a character at a time. Here a head whose every line is in the strict form of RFC 9112
 * (CRLF line ends, single spaces in the start line, token header names directly followed by the
 * colon, values without control characters, no line folding) and whose body is framed by a single
 * plain {@code content-length} (or absent where that means no body) is decoded from one copy of its
 * bytes: names are shared constants ({@link HeaderNameTable}) or byte copies, values {@link
 * AsciiString}s, which the encoders copy whole; a line with the same bytes as the last head's line
 * at its place (a keep-alive peer repeats most of its headers) takes that head's objects again
 * ({@link #RECENT_LINES}). Its body is sliced as Netty slices it (the same objects, the same sizes,
 * one per call). The same messages come out as from Netty's decoder, with the same header
 * validation (the header map's validators run on every add); the values are {@code AsciiString}s
 * instead of {@code String}s, and the decoder result is {@code SUCCESS} without Netty's head-size
 * figures.
 *
 * <p>Anything else (a transfer coding, a body framed by the connection's close, an interim or
 * upgrade response, obsolete folding, a head over {@link #LIMIT} bytes, a response head not yet
 * whole in the buffer, any byte outside the strict form) leaves the buffer untouched, and Netty's
 * decoder decodes that message from its first byte; the next message is tried here again once
 * Netty's ended. A request head not yet whole whose lines so far are in the strict form waits in
 * the buffer for the rest ({@link #partial}; decision 0037, addendum 16). After a decoding failure
 * (Netty then discards the rest of the connection) or a protocol switch, Netty's decoder keeps the
 * connection. One per codec; event loop only.
 */
final class FastHead {
  /** The longest head decoded here; longer ones go to Netty's decoder. */
  static final int LIMIT = 8192;

  private final int limit;
  private final int maxChunk;
  private final HttpHeadersFactory trailers;
  private byte[] buf = new byte[512]; // typical heads are 40-300 bytes
  private int n;
  private int pos;

  // the head just parsed: its length in the buffer and its content-length (-1: none)
  int headLength;
  long contentLength;

  // the body of a message whose head was decoded here: bytes still to come
  private long remaining;
  // Netty's decoder has the current message in hand, until it ends it
  private boolean netty;
  // Netty's decoder keeps the connection (it failed, or the protocol switched)
  private boolean nettyForever;

  /** For a decoder with {@code config}; with {@code enabled} false every head is Netty's. */
  FastHead(HttpDecoderConfig config, boolean enabled) {
    this.limit =
        Math.min(LIMIT, Math.min(config.getMaxInitialLineLength(), config.getMaxHeaderSize()));
    this.maxChunk = config.getMaxChunkSize();
    this.trailers = config.getTrailersFactory();
    this.nettyForever = !enabled;
  }

  /**
   * Whether a message head may be tried here: no message is under way and Netty is not in charge.
   */
  boolean idle() {
    return remaining == 0 && !netty && !nettyForever;
  }

  /** Whether the body of a message whose head was decoded here is still coming. */
  boolean inBody() {
    return remaining > 0;
  }

  /**
   * Finds a whole head at the start of {@code in} (through its blank line, within the limit) and
   * copies it for parsing; false when there is none (then Netty's decoder takes the message).
   */
  boolean load(ByteBuf in) {
    int readable = Math.min(in.readableBytes(), limit);
    int from = searched; // 0 unless the head's start waited here for its end ({@link #partial})
    if (from == 0) {
      endOfHead.state = 0;
    }
    int end =
        readable > from ? in.forEachByte(in.readerIndex() + from, readable - from, endOfHead) : -1;
    if (end < 0) {
      return false; // not whole yet, or longer than the limit
    }
    searched = 0;
    checkedLines = 0;
    copy(in, in.readerIndex(), end + 1 - in.readerIndex());
    pos = 0;
    return true;
  }

  /**
   * {@code length} bytes of {@code in} from {@code index} into {@link #buf}, growing it; {@code n}.
   */
  private void copy(ByteBuf in, int index, int length) {
    if (buf.length < length) {
      buf = new byte[Math.min(limit, Math.max(length, buf.length * 2))];
    }
    in.getBytes(index, buf, 0, length);
    n = length;
  }

  private final EndOfHead endOfHead = new EndOfHead();

  // A request head's start waiting for its end (partial): how many bytes from the reader index
  // the end-of-head search has seen (its state is endOfHead's), and where the first line not yet
  // checked starts. Both 0 otherwise; offsets from the reader index, which does not move while the
  // head waits (nothing is consumed, ByteToMessageDecoder only appends).
  private int searched;
  private int checkedLines;

  /**
   * After {@link #load} found no whole head in {@code in}: whether its bytes are the start of a
   * request head in the strict form and under the limit, every line complete so far in that form
   * (the request line as {@link #requestLine}, header lines as {@link #headers} reads them). Then
   * the decoder waits for the next read, and the head is decoded here once whole (a head split
   * across reads: a small receive buffer, a client writing its head in parts). False (Netty's
   * decoder takes the message, as before) at the limit, or at the first line outside the form, so
   * Netty answers a bad line as soon as it would have (it too waits for a line's end). Each byte is
   * searched and checked once however the head is split. Request heads only.
   */
  boolean partial(ByteBuf in) {
    int readable = in.readableBytes();
    if (readable >= limit) {
      return false; // Netty's decoder answers a head over its limits (431) or takes a long one
    }
    searched = readable; // load has searched it all, endOfHead holds its state
    int r = in.readerIndex();
    while (true) {
      int lf = in.indexOf(r + checkedLines, r + readable, (byte) '\n');
      if (lf < 0) {
        return true;
      }
      int length = lf + 1 - r - checkedLines;
      copy(in, r + checkedLines, length);
      if (!(checkedLines == 0 ? requestLine() : headerLine(buf, length))) {
        return false;
      }
      checkedLines += length;
    }
  }

  /**
   * Whether {@code b[0..length)}, one line through its LF, is a header line in the form {@link
   * #headers} decodes: a token name directly followed by the colon, a value without control
   * characters other than tab, CR LF.
   */
  private static boolean headerLine(byte[] b, int length) {
    if (length < 3 || b[length - 2] != '\r') {
      return false;
    }
    int p = 0;
    while (p < length && TCHAR[b[p] & 0xff]) {
      p++;
    }
    if (p == 0 || b[p] != ':') {
      return false;
    }
    for (p++; p < length - 2; p++) {
      int c = b[p] & 0xff;
      if (c < 0x20 && c != '\t' || c == 0x7f) {
        return false;
      }
    }
    return true;
  }

  /** Stops at the LF of the first CR LF CR LF. */
  private static final class EndOfHead implements ByteProcessor {
    int state; // 1: CR, 2: CR LF, 3: CR LF CR

    @Override
    public boolean process(byte b) {
      if (b == '\r') {
        state = state == 2 ? 3 : 1;
      } else if (b == '\n') {
        if (state == 3) {
          return false;
        }
        state = state == 1 ? 2 : 0;
      } else {
        state = 0;
      }
      return true;
    }
  }

  /**
   * A request line in the strict form, {@code METHOD SP request-target SP HTTP/1.x CRLF}, with an
   * upper-case method and a visible-ASCII target; false otherwise. Sets {@link #lineMethod}, {@link
   * #lineUri} and {@link #lineVersion} (shared strings for the common methods and versions).
   */
  boolean requestLine() {
    int p = 0;
    while (p < n && buf[p] >= 'A' && buf[p] <= 'Z') {
      p++;
    }
    if (p == 0 || p > 16 || p >= n || buf[p] != ' ') {
      return false;
    }
    String m = method(buf, p);
    int us = ++p;
    while (p < n && buf[p] > ' ' && buf[p] < 0x7f) {
      p++;
    }
    if (p == us || p + 11 > n || buf[p] != ' ') {
      return false;
    }
    int ue = p++;
    String v = version(p);
    if (v == null || buf[p + 8] != '\r' || buf[p + 9] != '\n') {
      return false;
    }
    // stored only when they change: a store into this long-lived object marks its card, which the
    // next young collection then scans
    if (lineMethod != m) {
      lineMethod = m;
    }
    if (!sameText(lineUri, buf, us, ue - us)) {
      lineUri = new String(buf, us, ue - us, StandardCharsets.ISO_8859_1);
    }
    if (lineVersion != v) {
      lineVersion = v;
    }
    pos = p + 10;
    return true;
  }

  // The request line's method, target and version; the target is the previous request's string
  // when its bytes are the same (a keep-alive client asking for the same path again)
  String lineMethod = "";
  String lineUri = "";
  String lineVersion = "";

  /** Whether {@code s} is the ASCII text of the {@code length} bytes at {@code b[start..]}. */
  private static boolean sameText(String s, byte[] b, int start, int length) {
    if (s.length() != length) {
      return false;
    }
    for (int i = length - 1; i >= 0; i--) { // paths differ at their end more often
      if (b[start + i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static String method(byte[] b, int len) {
    return switch (len) {
      case 3 ->
          b[0] == 'G' && b[1] == 'E' && b[2] == 'T'
              ? "GET"
              : b[0] == 'P' && b[1] == 'U' && b[2] == 'T'
                  ? "PUT"
                  : new String(b, 0, len, StandardCharsets.ISO_8859_1);
      case 4 ->
          b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T'
              ? "POST"
              : b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D'
                  ? "HEAD"
                  : new String(b, 0, len, StandardCharsets.ISO_8859_1);
      default -> {
        String m = new String(b, 0, len, StandardCharsets.ISO_8859_1);
        yield switch (m) {
          case "DELETE" -> "DELETE";
          case "OPTIONS" -> "OPTIONS";
          case "PATCH" -> "PATCH";
          case "CONNECT" -> "CONNECT";
          case "TRACE" -> "TRACE";
          default -> m;
        };
      }
    };
  }

  /** {@code HTTP/1.1} or {@code HTTP/1.0} at {@code p} (the shared strings), else null. */
  private @Nullable String version(int p) {
    if (p + 8 > n
        || buf[p] != 'H'
        || buf[p + 1] != 'T'
        || buf[p + 2] != 'T'
        || buf[p + 3] != 'P'
        || buf[p + 4] != '/'
        || buf[p + 5] != '1'
        || buf[p + 6] != '.') {
      return null;
    }
    // the literals are the strings Netty's HttpVersion holds, so valueOf takes its fast path
    return buf[p + 7] == '1' ? "HTTP/1.1" : buf[p + 7] == '0' ? "HTTP/1.0" : null;
  }

  /**
   * A status line in the strict form, {@code HTTP/1.x SP 3DIGIT SP reason CRLF} with a non-empty
   * reason of visible ASCII, spaces and tabs (not starting or ending with either): its version,
   * else null. {@link #code} and the reason's bounds are set.
   */
  @Nullable HttpVersion statusLine() {
    String v = version(0);
    if (v == null || n < 16 || buf[8] != ' ' || buf[12] != ' ') {
      return null;
    }
    int c0 = buf[9] - '0';
    int c1 = buf[10] - '0';
    int c2 = buf[11] - '0';
    if (c0 < 1 || c0 > 5 || c1 < 0 || c1 > 9 || c2 < 0 || c2 > 9) {
      return null;
    }
    code = c0 * 100 + c1 * 10 + c2;
    int p = 13;
    while (p < n && (buf[p] >= ' ' && buf[p] < 0x7f || buf[p] == '\t')) {
      p++;
    }
    if (p == 13 || p + 1 >= n || buf[p] != '\r' || buf[p + 1] != '\n') {
      return null;
    }
    if (isOws(buf[13]) || isOws(buf[p - 1])) {
      return null;
    }
    reasonStart = 13;
    reasonEnd = p;
    pos = p + 2;
    return v.equals("HTTP/1.1") ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
  }

  int code;
  private int reasonStart;
  private int reasonEnd;

  /** Whether the status line's reason is exactly {@code reason}. */
  boolean reasonIs(String reason) {
    int len = reasonEnd - reasonStart;
    if (len != reason.length()) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      if (buf[reasonStart + i] != reason.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The status line's reason as text. */
  String reason() {
    return new String(buf, reasonStart, reasonEnd - reasonStart, StandardCharsets.ISO_8859_1);
  }

  private static boolean isOws(byte b) {
    return b == ' ' || b == '\t';
  }

  /**
   * The header lines after the start line, added to {@code headers} in order, names from {@code
   * names} where shared, up to and including the blank line; false (the caller drops the message)
   * at anything outside the strict form, at a transfer coding, at a {@code content-length} that is
   * not one plain number, at Hixie-76 WebSocket key headers, or when the head is not whole here.
   * Sets {@link #contentLength} and {@link #headLength}.
   */
  boolean headers(HttpHeaders headers, HeaderNameTable names) {
    byte[] b = buf;
    contentLength = -1;
    int p = pos;
    int line = 0;
    while (true) {
      if (p + 1 >= n) {
        return false; // not whole in the buffer
      }
      if (b[p] == '\r') {
        if (b[p + 1] != '\n') {
          return false;
        }
        headLength = p + 2;
        return true;
      }
      int ns = p;
      while (p < n && TCHAR[b[p] & 0xff]) {
        p++;
      }
      if (p == ns || p >= n || b[p] != ':') {
        return false; // no name, whitespace before the colon, a folded line, ...
      }
      int ne = p++;
      while (p < n && isOws(b[p])) {
        p++;
      }
      int vs = p;
      int ve = p;
      while (p < n) {
        int c = b[p] & 0xff;
        if (c == '\r') {
          break;
        }
        if (c < 0x20 && c != '\t' || c == 0x7f) {
          return false;
        }
        if (c != ' ' && c != '\t') {
          ve = p + 1;
        }
        p++;
      }
      if (p + 1 >= n || b[p + 1] != '\n') {
        return false;
      }
      p += 2;
      int nl = ne - ns;
      AsciiString name = names.find(b, ns, nl);
      if (name == null) {
        name = recent(lastNames, line, b, ns, nl);
      }
      if (nl == 14 && name.contentEqualsIgnoreCase(CONTENT_LENGTH)) {
        if (contentLength >= 0 || (contentLength = digits(b, vs, ve)) < 0) {
          return false; // several, or not one plain number: Netty's rules
        }
      } else if (nl == 17 && name.contentEqualsIgnoreCase(TRANSFER_ENCODING)
          || nl == 18 && name.contentEqualsIgnoreCase(SEC_WEBSOCKET_KEY1)) {
        return false;
      }
      CharSequence value =
          ve > vs ? recent(lastValues, line, b, vs, ve - vs) : AsciiString.EMPTY_STRING;
      line++;
      try {
        if (headers instanceof ArrayHeaders checked) {
          checked.addChecked(name, value); // the loops above checked what Netty's validators check
        } else {
          headers.add(name, value);
        }
      } catch (IllegalArgumentException e) {
        return false; // Netty's decoder meets the same validation and answers it
      }
    }
  }

  /**
   * How many header lines of a head keep their last value (and name, when it is not a shared one)
   * for the next head, and up to what length: a keep-alive peer sends the same headers in the same
   * order, most of them with the same values each time (NGINX: 7 of its 8; a client's host,
   * user-agent, accept). A line whose bytes are those of the last head's line at its place is that
   * same {@link AsciiString}: immutable, so any number of messages may hold it. The values kept are
   * at most {@code RECENT_LINES x RECENT_BYTES} bytes per connection.
   */
  static final int RECENT_LINES = 16;

  static final int RECENT_BYTES = 64;

  private final @Nullable AsciiString[] lastNames = new AsciiString[RECENT_LINES];
  private final @Nullable AsciiString[] lastValues = new AsciiString[RECENT_LINES];

  /**
   * The {@code length} bytes at {@code b[start..]} as an {@link AsciiString}: the one {@code
   * recent} holds for header line {@code line} when the bytes are the same, else a copy, which it
   * then holds.
   */
  private static AsciiString recent(
      @Nullable AsciiString[] recent, int line, byte[] b, int start, int length) {
    if (line >= RECENT_LINES || length > RECENT_BYTES) {
      return new AsciiString(b, start, length, true);
    }
    @Nullable AsciiString last = recent[line];
    if (last != null && last.length() == length) {
      byte[] a = last.array();
      int o = last.arrayOffset();
      int i = length - 1;
      while (i >= 0 && a[o + i] == b[start + i]) {
        i--;
      }
      if (i < 0) {
        return last;
      }
    }
    AsciiString copy = new AsciiString(b, start, length, true);
    recent[line] = copy;
    return copy;
  }

  private static long digits(byte[] b, int start, int end) {
    if (end - start < 1 || end - start > 18) {
      return -1;
    }
    long v = 0;
    for (int i = start; i < end; i++) {
      int d = b[i] - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      v = v * 10 + d;
    }
    return v;
  }

  /**
   * Ends the head just decoded in {@code in}: consumes its bytes and, with a body to come, starts
   * slicing it.
   */
  void consumed(ByteBuf in, long body) {
    in.skipBytes(headLength);
    remaining = body;
  }

  /** The next slice of the body, as Netty's decoder makes it: one per call. */
  void body(ByteBuf in, List<Object> out) {
    int readable = in.readableBytes();
    if (readable == 0) {
      return;
    }
    int toRead = (int) Math.min(Math.min(readable, maxChunk), remaining);
    ByteBuf content = in.readRetainedSlice(toRead);
    remaining -= toRead;
    out.add(
        remaining == 0
            ? new DefaultLastHttpContent(content, trailers)
            : new DefaultHttpContent(content));
  }

  /** The connection closed: a body still coming ends without its last part, as in Netty. */
  void closed() {
    remaining = 0;
  }

  /** Netty's decoder takes the message that starts in the buffer. */
  void toNetty() {
    netty = true;
    searched = 0;
    checkedLines = 0;
  }

  /** Whether Netty's decoder has a message in hand. */
  boolean nettyDecoding() {
    return netty || nettyForever;
  }

  /**
   * Netty's decoder produced {@code out[from..]}: once it ends a message the next one may be tried
   * here; a failure, or a switch away from HTTP/1, leaves it the connection.
   */
  void nettyDecoded(List<Object> out, int from) {
    for (int i = from; i < out.size(); i++) {
      Object o = out.get(i);
      if (o instanceof HttpObject h) {
        DecoderResult r = h.decoderResult();
        if (r.isFailure() || o instanceof HttpResponse resp && resp.status().code() == 101) {
          nettyForever = true;
        }
      }
      if (o instanceof LastHttpContent) {
        netty = false;
      }
    }
  }

  private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
  private static final AsciiString TRANSFER_ENCODING = AsciiString.cached("transfer-encoding");
  private static final AsciiString SEC_WEBSOCKET_KEY1 = AsciiString.cached("sec-websocket-key1");

  /** RFC 9110 tchar. */
  private static final boolean[] TCHAR = new boolean[256];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 'a' + 'A'] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }
}
