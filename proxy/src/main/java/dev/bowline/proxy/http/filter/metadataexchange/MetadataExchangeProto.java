package dev.bowline.proxy.http.filter.metadataexchange;

import com.google.protobuf.Descriptors;

/**
 * Where {@code bootstrap.SupportedTypes} still looks for the MetadataExchange schema, which lives
 * in {@link dev.bowline.protos.MetadataExchangeProto} now (decision 0035). To be removed once
 * {@code SupportedTypes} names that class itself.
 */
public final class MetadataExchangeProto {
  private MetadataExchangeProto() {}

  /** The message's descriptor. */
  public static Descriptors.Descriptor descriptor() {
    return dev.bowline.protos.MetadataExchangeProto.descriptor();
  }
}
