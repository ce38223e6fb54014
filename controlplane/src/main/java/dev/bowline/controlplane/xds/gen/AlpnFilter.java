package dev.bowline.controlplane.xds.gen;

import dev.bowline.protos.AlpnProto;

/** istiod's {@code istio.alpn} HTTP filter, built once (its schema: {@link AlpnProto}). */
final class AlpnFilter {
  private AlpnFilter() {}

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
    var d = AlpnProto.descriptor();
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
                .setTypeUrl(AlpnProto.TYPE_URL)
                .setValue(config.build().toByteString()))
        .build();
  }
}
