package dev.bowline.proxy.transport;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP/1.1 decoder settings of the proxy's server and client codecs.
 *
 * <p>Netty's decoder gives every message's last content a trailers map of its own, made by the
 * trailers factory even when no trailer can follow (a message with a {@code content-length}). Here
 * that map is {@link LazyHeaders}: empty and allocation-free until a trailer is added, then Netty's
 * trailers map (with its validation) underneath. Message headers get a hash table of 8 buckets
 * instead of 16: Netty's {@code DefaultHeaders} never resizes its table, it chains the entries of a
 * bucket, so a message with many more headers only has longer chains.
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

  private static final DefaultHttpHeadersFactory HEADERS =
      DefaultHttpHeadersFactory.headersFactory();

  /**
   * Message headers with a hash table of 8 buckets instead of Netty's 16 (32 bytes less per
   * message; a typical request or response has about that many headers). Validation is Netty's
   * default.
   */
  private enum SmallHeaders implements HttpHeadersFactory {
    INSTANCE;

    @Override
    public HttpHeaders newHeaders() {
      return new Sized(HEADERS.getNameValidator(), HEADERS.getValueValidator(), 8);
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return new Sized(HEADERS.getNameValidator(), HEADERS.getValueValidator(), 2);
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

  private static final class Sized extends DefaultHttpHeaders {
    Sized(
        DefaultHeaders.NameValidator<CharSequence> names,
        DefaultHeaders.ValueValidator<CharSequence> values,
        int size) {
      super(names, values, size);
    }
  }

  /**
   * Headers for a message head that {@link FastHead} decodes, when the decoder makes them with this
   * class's factory (else null): the map of {@link SmallHeaders} with Netty's validation, except
   * for the adds of {@link Checked#addChecked}, whose names and values the head's parser has just
   * checked byte by byte against the same rules (token names; values without control characters
   * other than tab, not starting with a space or tab). {@code gate} opens and closes the map's
   * validation: one gate serves every map of one codec (their adds run one at a time, on its event
   * loop), so a head does not make one of its own.
   */
  static @Nullable Checked checkedHeaders(HttpHeadersFactory factory, Gate gate) {
    return factory == SmallHeaders.INSTANCE ? new Checked(gate) : null;
  }

  /**
   * {@link SmallHeaders}' map with adds that skip validation already done ({@link Checked}), opened
   * and closed by {@code gate} (one per codec, as above).
   */
  static Checked checkedHeaders(Gate gate) {
    return new Checked(gate);
  }

  /** {@link SmallHeaders}' map with adds that skip validation already done. Event loop only. */
  static final class Checked extends DefaultHttpHeaders {
    private final Gate gate;

    private Checked(Gate gate) {
      super(gate, gate, 8);
      this.gate = gate;
    }

    /** Adds a header whose name and value were checked against Netty's validation already. */
    void addChecked(CharSequence name, CharSequence value) {
      gate.open = true;
      try {
        add(name, value);
      } finally {
        gate.open = false;
      }
    }
  }

  /**
   * Netty's header validation, skipped while open (only inside {@link Checked#addChecked}); the
   * maps that share one are used on one thread.
   */
  static final class Gate
      implements DefaultHeaders.NameValidator<CharSequence>,
          DefaultHeaders.ValueValidator<CharSequence> {
    private static final DefaultHeaders.NameValidator<CharSequence> NAMES =
        HEADERS.getNameValidator();
    private static final DefaultHeaders.ValueValidator<CharSequence> VALUES =
        HEADERS.getValueValidator();
    boolean open;

    @Override
    public void validateName(CharSequence name) {
      if (!open) {
        NAMES.validateName(name);
      }
    }

    @Override
    public void validate(CharSequence value) {
      if (!open) {
        VALUES.validate(value);
      }
    }
  }
}
