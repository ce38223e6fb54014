package dev.bowline.controlplane.xds.gen;

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
 * {@code repeated string alpn_override = 2}), which no published Java artifact carries: built here
 * (the proxy has the same schema) so istiod's {@code istio.alpn} filter can be sent and shown.
 */
final class AlpnProto {
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

  /**
   * istiod 1.16's {@code istio.alpn} filter: on mTLS, HTTP/1.0, HTTP/1.1 and HTTP/2 upstreams offer
   * {@code istio-http/1.0}, {@code istio-http/1.1} or {@code istio-h2} (so the server sidecar's
   * sniffing listener picks its HTTP chain), then {@code istio} and the plain protocol name (for
   * peers outside the mesh).
   */
  static io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
      filter() {
    return FILTER;
  }

  private static final io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
          .HttpFilter
      FILTER = buildFilter();

  private static io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3
          .HttpFilter
      buildFilter() {
    var d = FILTER_CONFIG;
    var overrideField = d.findFieldByName("alpn_override");
    var od = overrideField.getMessageType();
    var protocol = od.findFieldByName("upstream_protocol");
    var list = od.findFieldByName("alpn_override");
    var config = com.google.protobuf.DynamicMessage.newBuilder(d);
    String[][] table = {
      {"HTTP10", "istio-http/1.0", "istio", "http/1.0"},
      {"HTTP11", "istio-http/1.1", "istio", "http/1.1"},
      {"HTTP2", "istio-h2", "istio", "h2"}
    };
    for (String[] row : table) {
      var o =
          com.google.protobuf.DynamicMessage.newBuilder(od)
              .setField(protocol, protocol.getEnumType().findValueByName(row[0]));
      for (int i = 1; i < row.length; i++) {
        o.addRepeatedField(list, row[i]);
      }
      config.addRepeatedField(overrideField, o.build());
    }
    return io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter
        .newBuilder()
        .setName("istio.alpn")
        .setTypedConfig(
            com.google.protobuf.Any.newBuilder()
                .setTypeUrl(TYPE_URL)
                .setValue(config.build().toByteString()))
        .build();
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
