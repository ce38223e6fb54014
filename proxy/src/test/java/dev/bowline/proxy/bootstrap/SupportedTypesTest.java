package dev.bowline.proxy.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.TypeRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class SupportedTypesTest {
  private static final String PREFIX = "type.googleapis.com/";

  @Test
  void everyNameIsTheFullNameOfItsDescriptor() {
    assertThat(SupportedTypes.NAMES).doesNotHaveDuplicates();
    for (String name : SupportedTypes.NAMES) {
      assertThat(SupportedTypes.descriptor(name)).as(name).isNotNull();
      assertThat(SupportedTypes.descriptor(name).getFullName()).isEqualTo(name);
    }
    assertThat(SupportedTypes.descriptor("envoy.config.core.v3.Address")).isNull();
  }

  @Test
  void istioProxysFilterConfigsResolveForConfigDumps() throws Exception {
    TypeRegistry full = SupportedTypes.registry();
    for (String url :
        List.of(
            dev.bowline.protos.AlpnProto.TYPE_URL, dev.bowline.protos.IstioAuthnProto.TYPE_URL)) {
      assertThat(full.getDescriptorForTypeUrl(url)).as(url).isNotNull();
    }
  }

  @Test
  void aRegistryForSomeTypesResolvesThemAsTheFullOneDoes() throws Exception {
    TypeRegistry full = SupportedTypes.registry();
    for (String name : SupportedTypes.NAMES) {
      TypeRegistry one = SupportedTypes.registryFor(List.of(PREFIX + name));
      assertThat(one.getDescriptorForTypeUrl(PREFIX + name))
          .isSameAs(full.getDescriptorForTypeUrl(PREFIX + name));
    }
    // Only what was asked for (and the files it needs): RBAC is not built for a router.
    TypeRegistry router =
        SupportedTypes.registryFor(
            List.of(PREFIX + "envoy.extensions.filters.http.router.v3.Router"));
    assertThat(router.find("envoy.extensions.filters.http.rbac.v3.RBAC")).isNull();
    assertThat(full.find("envoy.extensions.filters.http.rbac.v3.RBAC")).isNotNull();
  }

  @Test
  void aTypeThatIsNotARootGetsTheFullRegistry() throws Exception {
    // A message of a dependency's file resolves in the full registry, so it must here too.
    String nested = "envoy.config.core.v3.Address";
    TypeRegistry full = SupportedTypes.registry();
    assertThat(full.find(nested)).isNotNull();
    assertThat(SupportedTypes.registryFor(List.of(PREFIX + nested)).find(nested))
        .isSameAs(full.find(nested));
    assertThat(SupportedTypes.registryFor(List.of(PREFIX + "no.such.Type")).find(nested))
        .isNotNull();
  }
}
