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

  /** A filter for one stream; called on the stream's event loop. */
  HttpFilter create(C config);

  /** Whether this is the terminal filter (the router). */
  default boolean terminal() {
    return false;
  }
}
