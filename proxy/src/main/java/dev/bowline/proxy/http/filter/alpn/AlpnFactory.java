package dev.bowline.proxy.http.filter.alpn;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.bowline.protos.AlpnProto;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamContext;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.UpstreamAlpn;
import io.netty.handler.codec.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Factory of {@code istio.alpn}: the config is the ALPN lists per upstream protocol; each stream
 * puts them in its filter state ({@link StreamInfo#UPSTREAM_ALPN}) and the router offers the list
 * of the protocol the cluster speaks upstream for that stream (istio-proxy's filter asks the
 * cluster for it when it runs; ours leaves the choice to the router, which knows it: same result).
 * The HTTP/1.0 list is accepted and never used: Envoy upgrades HTTP/1.0 to HTTP/1.1 upstream.
 */
public final class AlpnFactory implements HttpFilterFactory<UpstreamAlpn> {
  /** istiod's name for the filter. */
  public static final String NAME = "istio.alpn";

  @Override
  public String typeUrl() {
    return AlpnProto.TYPE_URL;
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return AlpnProto.descriptor();
  }

  @Override
  public UpstreamAlpn parse(Any typedConfig) throws InvalidProtocolBufferException {
    Descriptor d = AlpnProto.descriptor();
    DynamicMessage m = DynamicMessage.parseFrom(d, typedConfig.getValue());
    FieldDescriptor overrides = d.findFieldByName("alpn_override");
    List<String> http11 = List.of();
    List<String> http2 = List.of();
    for (int i = 0; i < m.getRepeatedFieldCount(overrides); i++) {
      Message o = (Message) m.getRepeatedField(overrides, i);
      Descriptor od = o.getDescriptorForType();
      EnumValueDescriptor protocol =
          (EnumValueDescriptor) o.getField(od.findFieldByName("upstream_protocol"));
      FieldDescriptor listField = od.findFieldByName("alpn_override");
      List<String> list = new ArrayList<>();
      for (int j = 0; j < o.getRepeatedFieldCount(listField); j++) {
        String p = (String) o.getRepeatedField(listField, j);
        if (p.isEmpty() || p.length() > 255) {
          throw new IllegalArgumentException(
              "alpn_override["
                  + i
                  + "].alpn_override["
                  + j
                  + "]: an ALPN protocol must be 1 to 255 bytes");
        }
        list.add(p);
      }
      switch (protocol.getName()) {
        case "HTTP10" -> {} // never the upstream protocol (see the class comment)
        case "HTTP11" -> http11 = list;
        case "HTTP2" -> http2 = list;
        default ->
            throw new IllegalArgumentException(
                "alpn_override["
                    + i
                    + "].upstream_protocol: unknown protocol "
                    + protocol.getNumber());
      }
    }
    return new UpstreamAlpn(http11, http2);
  }

  @Override
  public HttpFilter create(UpstreamAlpn config) {
    throw new UnsupportedOperationException("istio.alpn needs the stream");
  }

  @Override
  public HttpFilter create(UpstreamAlpn config, StreamInfo stream) {
    return new AlpnFilter(config, stream);
  }

  /** Puts the overrides in the stream's filter state; never stops the chain. */
  private record AlpnFilter(UpstreamAlpn config, StreamInfo info) implements HttpFilter {
    @Override
    public FilterStatus onRequestHeaders(
        HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
      info.put(StreamInfo.UPSTREAM_ALPN, config);
      return FilterStatus.CONTINUE;
    }
  }
}
