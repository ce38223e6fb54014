package dev.bowline.proxy.http.filter.istioauthn;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.bowline.protos.IstioAuthnProto;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Factory of {@code istio_authn} ({@code
 * istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig}): takes the policy's origin issuers,
 * in order, and where {@code jwt_authn} put each issuer's payload (by default under the issuer).
 */
public final class IstioAuthnFactory implements HttpFilterFactory<IstioAuthnFactory.Config> {
  /** The filter's name and the namespace of the metadata it writes. */
  public static final String NAME = "istio_authn";

  /**
   * The parsed config.
   *
   * @param issuers the origins' issuers, in the policy's order
   * @param payloadLocations the jwt_authn metadata key of each issuer's payload
   */
  public record Config(List<String> issuers, Map<String, String> payloadLocations) {
    public Config {
      issuers = List.copyOf(issuers);
      payloadLocations = Map.copyOf(payloadLocations);
    }
  }

  @Override
  public String typeUrl() {
    return IstioAuthnProto.TYPE_URL;
  }

  @Override
  public com.google.protobuf.Descriptors.Descriptor configType() {
    return IstioAuthnProto.descriptor();
  }

  @Override
  public Config parse(Any typedConfig) throws InvalidProtocolBufferException {
    Descriptor d = IstioAuthnProto.descriptor();
    DynamicMessage m = DynamicMessage.parseFrom(d, typedConfig.getValue());
    List<String> issuers = new ArrayList<>();
    FieldDescriptor policyField = d.findFieldByName("policy");
    if (m.hasField(policyField)) {
      Message policy = (Message) m.getField(policyField);
      FieldDescriptor origins = policy.getDescriptorForType().findFieldByName("origins");
      for (int i = 0; i < policy.getRepeatedFieldCount(origins); i++) {
        Message origin = (Message) policy.getRepeatedField(origins, i);
        Message jwt =
            (Message) origin.getField(origin.getDescriptorForType().findFieldByName("jwt"));
        String issuer = (String) jwt.getField(jwt.getDescriptorForType().findFieldByName("issuer"));
        if (issuer.isEmpty()) {
          throw new IllegalArgumentException("policy.origins[" + i + "].jwt.issuer: required");
        }
        issuers.add(issuer);
      }
    }
    Map<String, String> locations = new HashMap<>();
    FieldDescriptor loc = d.findFieldByName("jwt_output_payload_locations");
    for (int i = 0; i < m.getRepeatedFieldCount(loc); i++) {
      Message e = (Message) m.getRepeatedField(loc, i);
      var fd = e.getDescriptorForType();
      locations.put(
          (String) e.getField(fd.findFieldByName("key")),
          (String) e.getField(fd.findFieldByName("value")));
    }
    return new Config(issuers, locations);
  }

  @Override
  public HttpFilter create(Config config) {
    throw new UnsupportedOperationException("istio_authn needs its stream");
  }

  @Override
  public HttpFilter create(Config config, StreamInfo stream) {
    return new IstioAuthnFilter(config, stream);
  }
}
