package dev.bowline.protos;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;

/**
 * The schema of istio-proxy's {@code envoy.tcp.metadataexchange.config.MetadataExchange} ({@code
 * string protocol = 1}), which no published Java artifact carries: the control plane writes it
 * (istiod's {@code metadata_exchange} network filter) and the proxy reads it; both print it inside
 * an {@code Any} in config dumps.
 */
public final class MetadataExchangeProto {
  private MetadataExchangeProto() {}

  /** The config's type URL. */
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange";

  private static final Descriptors.Descriptor DESCRIPTOR = build();

  /** The message's descriptor. */
  public static Descriptors.Descriptor descriptor() {
    return DESCRIPTOR;
  }

  private static Descriptors.Descriptor build() {
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("envoy/tcp/metadataexchange/config/metadata_exchange.proto")
            .setPackage("envoy.tcp.metadataexchange.config")
            .setSyntax("proto3")
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("MetadataExchange")
                    .addField(
                        FieldDescriptorProto.newBuilder()
                            .setName("protocol")
                            .setJsonName("protocol")
                            .setNumber(1)
                            .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL)
                            .setType(FieldDescriptorProto.Type.TYPE_STRING)))
            .build();
    try {
      return Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[0])
          .findMessageTypeByName("MetadataExchange");
    } catch (Descriptors.DescriptorValidationException e) {
      throw new IllegalStateException(e);
    }
  }
}
