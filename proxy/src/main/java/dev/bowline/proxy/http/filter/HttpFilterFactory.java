package dev.bowline.proxy.http.filter;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;

/**
 * Builds one kind of HTTP filter: parses its proto once into an immutable config, then creates a
 * filter per stream from that config.
 *
 * @param <C> the filter's config record
 */
public interface HttpFilterFactory<C> {
  /** The {@code typed_config} type URL this factory handles. */
  String typeUrl();

  /**
   * Builds the config from {@code typedConfig}.
   *
   * @throws IllegalArgumentException naming the bad field, relative to the filter's config
   * @throws InvalidProtocolBufferException when the bytes are not the declared type
   */
  C parse(Any typedConfig) throws InvalidProtocolBufferException;

  /**
   * Builds the config from {@code typedConfig} for a filter on a listener described by {@code
   * context}; by default the context does not matter.
   *
   * @throws IllegalArgumentException naming the bad field, relative to the filter's config
   * @throws InvalidProtocolBufferException when the bytes are not the declared type
   */
  default C parse(Any typedConfig, FilterContext context) throws InvalidProtocolBufferException {
    return parse(typedConfig);
  }

  /** A filter for one stream; called on the stream's event loop. */
  HttpFilter create(C config);

  /**
   * A filter for one stream that may observe it through {@code stream}; called on the stream's
   * event loop. By default the stream is not needed.
   */
  default HttpFilter create(C config, StreamInfo stream) {
    return create(config);
  }

  /** Whether this is the terminal filter (the router). */
  default boolean terminal() {
    return false;
  }
}
