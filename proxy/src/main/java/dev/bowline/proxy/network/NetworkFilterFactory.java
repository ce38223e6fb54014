package dev.bowline.proxy.network;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.http.filter.FilterContext;

/** Builds one kind of non-terminal network filter from its {@code typed_config}. */
public interface NetworkFilterFactory {
  /** The {@code typed_config} type URL this factory handles. */
  String typeUrl();

  /**
   * The filter of {@code typedConfig}, compiled once.
   *
   * @throws IllegalArgumentException naming the bad field, relative to the filter's config
   * @throws InvalidProtocolBufferException when the bytes are not the declared type
   */
  ReadFilter parse(Any typedConfig) throws InvalidProtocolBufferException;

  /**
   * The filter of {@code typedConfig} on a listener described by {@code context} (its traffic
   * direction); by default the context is not needed.
   */
  default ReadFilter parse(Any typedConfig, FilterContext context)
      throws InvalidProtocolBufferException {
    return parse(typedConfig);
  }
}
