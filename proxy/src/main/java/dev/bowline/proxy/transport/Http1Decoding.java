package dev.bowline.proxy.transport;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;

/**
 * The HTTP/1.1 decoder settings of the proxy's server and client codecs.
 *
 * <p>Netty's decoder gives every message's last content a trailers map of its own, made by the
 * trailers factory even when no trailer follows (a response with a {@code content-length}); the
 * default factory sizes its hash table for 16 names. Almost no message has trailers, so the factory
 * here starts at 2 (the table grows as names are added, as any {@code DefaultHeaders} does): 56
 * bytes less per proxied response. Validation is Netty's trailers validation.
 */
public final class Http1Decoding {
  private static final DefaultHttpHeadersFactory TRAILERS =
      DefaultHttpHeadersFactory.trailersFactory();

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
   * Message headers with a hash table of 8 names instead of Netty's 16 (32 bytes less per message);
   * a typical request or response has about that many, and the table grows like any {@code
   * DefaultHeaders} when a message has more. Validation is Netty's default headers validation.
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
      return new Trailers(TRAILERS.getNameValidator(), TRAILERS.getValueValidator());
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return newHeaders();
    }
  }

  private static final class Trailers extends DefaultHttpHeaders {
    Trailers(
        DefaultHeaders.NameValidator<CharSequence> names,
        DefaultHeaders.ValueValidator<CharSequence> values) {
      super(names, values, 2);
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
}
