package dev.bowline.proxy.http.filter.alpn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import dev.bowline.protos.AlpnProto;
import dev.bowline.proxy.http.filter.FilterRegistry;
import dev.bowline.proxy.http.filter.UpstreamAlpn;
import org.junit.jupiter.api.Test;

class AlpnFactoryTest {
  static Any config(String[]... rows) {
    Descriptor d = AlpnProto.descriptor();
    FieldDescriptor overrides = d.findFieldByName("alpn_override");
    Descriptor od = overrides.getMessageType();
    FieldDescriptor protocol = od.findFieldByName("upstream_protocol");
    FieldDescriptor list = od.findFieldByName("alpn_override");
    DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
    for (String[] row : rows) {
      DynamicMessage.Builder o =
          DynamicMessage.newBuilder(od)
              .setField(protocol, protocol.getEnumType().findValueByName(row[0]));
      for (int i = 1; i < row.length; i++) {
        o.addRepeatedField(list, row[i]);
      }
      b.addRepeatedField(overrides, o.build());
    }
    return Any.newBuilder()
        .setTypeUrl(AlpnProto.TYPE_URL)
        .setValue(b.build().toByteString())
        .build();
  }

  @Test
  void istiodsConfigGivesOneListPerUpstreamProtocol() throws Exception {
    UpstreamAlpn a =
        new AlpnFactory()
            .parse(
                config(
                    new String[] {"HTTP10", "istio-http/1.0", "istio", "http/1.0"},
                    new String[] {"HTTP11", "istio-http/1.1", "istio", "http/1.1"},
                    new String[] {"HTTP2", "istio-h2", "istio", "h2"}));
    assertThat(a.forUpstream(false)).containsExactly("istio-http/1.1", "istio", "http/1.1");
    assertThat(a.forUpstream(true)).containsExactly("istio-h2", "istio", "h2");
  }

  @Test
  void aProtocolWithoutAnEntryKeepsTheClustersAlpn() throws Exception {
    UpstreamAlpn a = new AlpnFactory().parse(config(new String[] {"HTTP2", "istio-h2"}));
    assertThat(a.forUpstream(false)).isEmpty();
    assertThat(a.forUpstream(true)).containsExactly("istio-h2");
  }

  @Test
  void anEmptyProtocolNameIsRejectedWithItsField() {
    assertThatThrownBy(
            () -> new AlpnFactory().parse(config(new String[] {"HTTP11", "istio-http/1.1", ""})))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("alpn_override[0].alpn_override[1]: an ALPN protocol must be 1 to 255 bytes");
  }

  @Test
  void theBuiltInRegistryKnowsTheFilterByIstiosTypeUrl() {
    assertThat(FilterRegistry.builtIn().find(AlpnProto.TYPE_URL)).isPresent();
    assertThat(AlpnProto.TYPE_URL)
        .isEqualTo("type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig");
    assertThat(AlpnFactory.NAME).isEqualTo("istio.alpn");
  }
}
