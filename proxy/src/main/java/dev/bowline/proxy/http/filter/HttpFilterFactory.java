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
   * Builds the filter's per-route config from a route's or virtual host's {@code
   * typed_per_filter_config} entry; by default the filter takes none.
   *
   * @throws IllegalArgumentException naming the bad field, relative to the per-route config
   * @throws InvalidProtocolBufferException when the bytes are not the declared type
   */
  default Object parsePerRoute(Any typedConfig) throws InvalidProtocolBufferException {
    throw new IllegalArgumentException(
        "the filter takes no per-route config (" + typedConfig.getTypeUrl() + ")");
  }

  /**
   * The message types {@link #parsePerRoute} accepts, so a per-route config can be found by its
   * type URL and given as a {@code TypedStruct}; empty when the filter takes none. Asked for only
   * when a route carries a per-filter config or a {@code TypedStruct} needs a type: descriptors
   * (the generated static {@code getDescriptor()}, not {@code getDescriptorForType()}, which builds
   * the type's reflective accessors; decision 0036).
   */
  default java.util.List<com.google.protobuf.Descriptors.Descriptor> perRouteTypes() {
    return java.util.List.of();
  }

  /**
   * The message type {@link #parse} takes, so the filter can be given as a {@code TypedStruct};
   * null when it cannot. Asked for only when a {@code TypedStruct} needs it.
   */
  default com.google.protobuf.Descriptors.@org.jspecify.annotations.Nullable Descriptor
      configType() {
    return null;
  }

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
