package dev.bowline.proxy.network;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;

/** Builds one kind of upstream network filter ({@code Cluster.filters}) from its config. */
public interface UpstreamFilterFactory {
  /** The {@code typed_config} type URL this factory handles. */
  String typeUrl();

  /**
   * The filter of {@code typedConfig}, compiled once.
   *
   * @throws IllegalArgumentException naming the bad field, relative to the filter's config
   * @throws InvalidProtocolBufferException when the bytes are not the declared type
   */
  UpstreamFilter parseUpstream(Any typedConfig) throws InvalidProtocolBufferException;
}
