package dev.bowline.protos;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Label;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.Descriptors;

/**
 * The schema of istio-proxy's authn filter config, {@code
 * istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig} with the parts of {@code
 * istio.authentication.v1alpha1.Policy} istiod 1.16 sets (origins by issuer, peers, bindings),
 * which no published Java artifact carries: built here (same field numbers as istio/api) so the
 * config can be read from an {@code Any} and shown in config dumps. One schema for both sides: the
 * control plane writes the config with it, the proxy's {@code istio_authn} filter reads it.
 */
public final class IstioAuthnProto {
  private IstioAuthnProto() {}

  /** The config's type URL. */
  public static final String TYPE_URL =
      "type.googleapis.com/istio.envoy.config.filter.http.authn.v2alpha1.FilterConfig";

  private static final Descriptors.Descriptor FILTER_CONFIG = build();

  /** {@code FilterConfig}'s descriptor. */
  public static Descriptors.Descriptor descriptor() {
    return FILTER_CONFIG;
  }

  private static FieldDescriptorProto.Builder field(String name, int number, Type type) {
    return FieldDescriptorProto.newBuilder()
        .setName(name)
        .setJsonName(jsonName(name))
        .setNumber(number)
        .setLabel(Label.LABEL_OPTIONAL)
        .setType(type);
  }

  private static FieldDescriptorProto.Builder message(
      String name, int number, String typeName, boolean repeated) {
    return field(name, number, Type.TYPE_MESSAGE)
        .setTypeName(typeName)
        .setLabel(repeated ? Label.LABEL_REPEATED : Label.LABEL_OPTIONAL);
  }

  private static String jsonName(String name) {
    StringBuilder b = new StringBuilder();
    boolean up = false;
    for (char c : name.toCharArray()) {
      if (c == '_') {
        up = true;
      } else {
        b.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return b.toString();
  }

  private static Descriptors.Descriptor build() {
    String alpha = ".istio.authentication.v1alpha1.";
    FileDescriptorProto policy =
        FileDescriptorProto.newBuilder()
            .setName("authentication/v1alpha1/policy.proto")
            .setPackage("istio.authentication.v1alpha1")
            .setSyntax("proto3")
            .addEnumType(
                EnumDescriptorProto.newBuilder()
                    .setName("PrincipalBinding")
                    .addValue(
                        EnumValueDescriptorProto.newBuilder().setName("USE_PEER").setNumber(0))
                    .addValue(
                        EnumValueDescriptorProto.newBuilder().setName("USE_ORIGIN").setNumber(1)))
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("MutualTls")
                    .addEnumType(
                        EnumDescriptorProto.newBuilder()
                            .setName("Mode")
                            .addValue(
                                EnumValueDescriptorProto.newBuilder()
                                    .setName("STRICT")
                                    .setNumber(0))
                            .addValue(
                                EnumValueDescriptorProto.newBuilder()
                                    .setName("PERMISSIVE")
                                    .setNumber(1)))
                    .addField(field("allow_tls", 1, Type.TYPE_BOOL))
                    .addField(
                        field("mode", 2, Type.TYPE_ENUM).setTypeName(alpha + "MutualTls.Mode")))
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("Jwt")
                    .addField(field("issuer", 1, Type.TYPE_STRING))
                    .addField(
                        field("audiences", 2, Type.TYPE_STRING).setLabel(Label.LABEL_REPEATED))
                    .addField(field("jwks_uri", 3, Type.TYPE_STRING))
                    .addField(
                        field("jwt_headers", 6, Type.TYPE_STRING).setLabel(Label.LABEL_REPEATED))
                    .addField(
                        field("jwt_params", 7, Type.TYPE_STRING).setLabel(Label.LABEL_REPEATED))
                    .addField(field("jwks", 10, Type.TYPE_STRING)))
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("PeerAuthenticationMethod")
                    .addField(message("mtls", 1, alpha + "MutualTls", false)))
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("OriginAuthenticationMethod")
                    .addField(message("jwt", 1, alpha + "Jwt", false)))
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("Policy")
                    .addField(message("peers", 2, alpha + "PeerAuthenticationMethod", true))
                    .addField(field("peer_is_optional", 3, Type.TYPE_BOOL))
                    .addField(message("origins", 4, alpha + "OriginAuthenticationMethod", true))
                    .addField(field("origin_is_optional", 5, Type.TYPE_BOOL))
                    .addField(
                        field("principal_binding", 6, Type.TYPE_ENUM)
                            .setTypeName(alpha + "PrincipalBinding")))
            .build();
    String cfg = ".istio.envoy.config.filter.http.authn.v2alpha1.";
    FileDescriptorProto config =
        FileDescriptorProto.newBuilder()
            .setName("envoy/config/filter/http/authn/v2alpha1/config.proto")
            .setPackage("istio.envoy.config.filter.http.authn.v2alpha1")
            .setSyntax("proto3")
            .addDependency("authentication/v1alpha1/policy.proto")
            .addMessageType(
                DescriptorProto.newBuilder()
                    .setName("FilterConfig")
                    .addNestedType(
                        DescriptorProto.newBuilder()
                            .setName("JwtOutputPayloadLocationsEntry")
                            .setOptions(MessageOptions.newBuilder().setMapEntry(true))
                            .addField(field("key", 1, Type.TYPE_STRING))
                            .addField(field("value", 2, Type.TYPE_STRING)))
                    .addField(message("policy", 1, alpha + "Policy", false))
                    .addField(
                        message(
                            "jwt_output_payload_locations",
                            2,
                            cfg + "FilterConfig.JwtOutputPayloadLocationsEntry",
                            true))
                    .addField(field("skip_validate_trust_domain", 3, Type.TYPE_BOOL))
                    .addField(
                        field("allowed_trust_domains", 4, Type.TYPE_STRING)
                            .setLabel(Label.LABEL_REPEATED))
                    .addField(field("disable_clear_route_cache", 5, Type.TYPE_BOOL)))
            .build();
    try {
      Descriptors.FileDescriptor p =
          Descriptors.FileDescriptor.buildFrom(policy, new Descriptors.FileDescriptor[0]);
      return Descriptors.FileDescriptor.buildFrom(config, new Descriptors.FileDescriptor[] {p})
          .findMessageTypeByName("FilterConfig");
    } catch (Descriptors.DescriptorValidationException e) {
      throw new IllegalStateException(e);
    }
  }
}
