package dev.bowline.protos;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;

/**
 * The schema of {@code istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig} (istio/api's
 * {@code envoy/config/filter/http/alpn/v2alpha1/config.proto}: {@code repeated AlpnOverride
 * alpn_override = 1}, each {@code Protocol upstream_protocol = 1} (HTTP10, HTTP11, HTTP2) and
 * {@code repeated string alpn_override = 2}), which no published Java artifact carries: the control
 * plane writes it (istiod's {@code istio.alpn} filter) and the proxy reads it.
 */
public final class AlpnProto {
  private AlpnProto() {}

  /** The config's type URL. */
  public static final String TYPE_URL =
      "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig";

  private static final Descriptors.Descriptor FILTER_CONFIG = build();

  /** {@code FilterConfig}'s descriptor. */
  public static Descriptors.Descriptor descriptor() {
    return FILTER_CONFIG;
  }

  private static FieldDescriptorProto.Builder field(
      String name, String json, int number, Type type, Label label) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setJsonName(json)
        .setNumber(number)
        .setLabel(label)
        .setType(type);
  }

  private static EnumValueDescriptorProto value(String name, int number) {
    return EnumValueDescriptorProto.newBuilder().setName(name).setNumber(number).build();
  }

  private static Descriptors.Descriptor build() {
    String pkg = "istio.envoy.config.filter.http.alpn.v2alpha1";
    FileDescriptorProto file =
        FileDescriptorProto.newBuilder()
            .setName("envoy/config/filter/http/alpn/v2alpha1/config.proto")
            .setPackage(pkg)
            .setSyntax("proto3")
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("FilterConfig")
                    .addEnumType(
                        EnumDescriptorProto.newBuilder()
                            .setName("Protocol")
                            .addValue(value("HTTP10", 0))
                            .addValue(value("HTTP11", 1))
                            .addValue(value("HTTP2", 2)))
                    .addNestedType(
                        DescriptorProto.newBuilder()
                            .setName("AlpnOverride")
                            .addField(
                                field(
                                        "upstream_protocol",
                                        "upstreamProtocol",
                                        1,
                                        Type.TYPE_ENUM,
                                        Label.LABEL_OPTIONAL)
                                    .setTypeName("." + pkg + ".FilterConfig.Protocol"))
                            .addField(
                                field(
                                    "alpn_override",
                                    "alpnOverride",
                                    2,
                                    Type.TYPE_STRING,
                                    Label.LABEL_REPEATED)))
                    .addField(
                        field(
                                "alpn_override",
                                "alpnOverride",
                                1,
                                Type.TYPE_MESSAGE,
                                Label.LABEL_REPEATED)
                            .setTypeName("." + pkg + ".FilterConfig.AlpnOverride")))
            .build();
    try {
      return Descriptors.FileDescriptor.buildFrom(file, new Descriptors.FileDescriptor[0])
          .findMessageTypeByName("FilterConfig");
    } catch (Descriptors.DescriptorValidationException e) {
      throw new IllegalStateException(e);
    }
  }
}
