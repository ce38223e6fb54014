package dev.bowline.proxy.transport;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/1.1 decoder settings of the proxy's server and client codecs.
 *
 * <p>Netty's decoder gives every message's last content a trailers map of its own, made by the
 * trailers factory even when no trailer can follow (a message with a {@code content-length}). Here
 * that map is {@link LazyHeaders}: empty and allocation-free until a trailer is added, then Netty's
 * trailers map (with its validation) underneath. Message headers are {@link ArrayHeaders}: parallel
 * arrays instead of Netty's hash table with an entry object per header (decision 0037, addendum 6).
 */
public final class Http1Decoding {
  private Http1Decoding() {}

  /** A decoder config with these limits and the small trailers factory. */
  public static HttpDecoderConfig config(int maxInitialLine, int maxHeaderBytes, int maxChunk) {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength(maxInitialLine)
        .setMaxHeaderSize(maxHeaderBytes)
        .setMaxChunkSize(maxChunk)
        .setHeadersFactory(SmallHeaders.INSTANCE)
        .setTrailersFactory(SmallTrailers.INSTANCE);
  }

  /**
   * Whether a name among {@code headers} holds {@code c}: for the decoder's own headers ({@link
   * ArrayHeaders}) read in place, with no iterator or entry made; any other headers (trailers) are
   * iterated.
   */
  public static boolean anyNameContains(HttpHeaders headers, char c) {
    if (headers instanceof ArrayHeaders a) {
      for (int i = 0, n = a.size(); i < n; i++) {
        if (io.netty.util.AsciiString.indexOf(a.nameAt(i), c, 0) >= 0) {
          return true;
        }
      }
      return false;
    }
    var it = headers.iteratorCharSequence();
    while (it.hasNext()) {
      if (io.netty.util.AsciiString.indexOf(it.next().getKey(), c, 0) >= 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * The first value of {@code name} in {@code headers}: for the decoder's own headers ({@link
   * ArrayHeaders}) as held, an {@code AsciiString} value not copied into a String; any other
   * headers' {@code get}.
   */
  public static @Nullable CharSequence first(HttpHeaders headers, CharSequence name) {
    return headers instanceof ArrayHeaders a ? a.first(name) : headers.get(name);
  }

  /**
   * Removes every header whose name starts with {@code prefix} (any case) and that {@code which}
   * accepts ({@code which} sees only the prefixed names): for the decoder's own headers ({@link
   * ArrayHeaders}) in one pass and in place, allocating nothing; any other headers are iterated and
   * the names found removed after.
   */
  public static void removePrefixed(
      HttpHeaders headers, AsciiString prefix, Predicate<CharSequence> which) {
    if (headers instanceof ArrayHeaders a) {
      a.removePrefixed(prefix, which);
      return;
    }
    List<CharSequence> found = null;
    var it = headers.iteratorCharSequence();
    while (it.hasNext()) {
      CharSequence name = it.next().getKey();
      if (name.length() >= prefix.length()
          && AsciiString.regionMatches(name, true, 0, prefix, 0, prefix.length())
          && which.test(name)) {
        if (found == null) {
          found = new ArrayList<>(2);
        }
        found.add(name);
      }
    }
    if (found != null) {
      found.forEach(headers::remove);
    }
  }

  private static final DefaultHttpHeadersFactory HEADERS =
      DefaultHttpHeadersFactory.headersFactory();

  static final DefaultHeaders.NameValidator<CharSequence> NAMES = HEADERS.getNameValidator();
  static final DefaultHeaders.ValueValidator<CharSequence> VALUES = HEADERS.getValueValidator();

  /**
   * Room for a typical head's headers (a request's ~7 after the proxy's own, a response's ~10): a
   * connection's first head, and every head of Netty's own decoder; later fast-path heads start
   * with what the connection's heads held ({@link ArrayHeaders.Sizing}).
   */
  static final int HEAD_CAPACITY = 12;

  /**
   * Message headers as {@link ArrayHeaders} (no object per header) with Netty's default validation.
   */
  private enum SmallHeaders implements HttpHeadersFactory {
    INSTANCE;

    @Override
    public HttpHeaders newHeaders() {
      return checkedHeaders();
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return new ArrayHeaders(NAMES, VALUES, 2);
    }
  }

  private enum SmallTrailers implements HttpHeadersFactory {
    INSTANCE;

    @Override
    public HttpHeaders newHeaders() {
      return new LazyHeaders();
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return newHeaders();
    }
  }

  /**
   * Headers for a message head that {@link FastHead} decodes, when the decoder makes them with this
   * class's factory (else null): {@link SmallHeaders}' map, whose {@link ArrayHeaders#addChecked}
   * skips the validation the head's parser has just done byte by byte against the same rules (token
   * names; values without control characters other than tab, not starting with a space or tab).
   * Every other add is validated as in Netty's map.
   */
  static @Nullable ArrayHeaders checkedHeaders(
      HttpHeadersFactory factory, ArrayHeaders.Sizing sizing) {
    return factory == SmallHeaders.INSTANCE
        ? new ArrayHeaders(NAMES, VALUES, sizing.capacity(), sizing)
        : null;
  }

  /** {@link SmallHeaders}' map, for a head whose names and values were checked already. */
  static ArrayHeaders checkedHeaders() {
    return new ArrayHeaders(NAMES, VALUES, HEAD_CAPACITY);
  }
}
