package dev.bowline.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.api.Message;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.validation.Validator;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MeshConfig with last-known-good, as a bare mesh.yaml or the {@code istio} ConfigMap. */
class MeshConfigStoreTest {
  final MeshConfigStore store =
      new MeshConfigStore(new ResourceCodec(), new Validator(), Clock.systemUTC());

  @Test
  void theIstioConfigMapFormIsReadFromDataMesh() {
    List<MeshConfig> seen = new ArrayList<>();
    store.subscribe(seen::add);
    List<Message> errors =
        store.update(
            "istio.yaml",
            """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: istio, namespace: istio-system}
            data:
              mesh: |-
                trustDomain: corp.example
                outboundTrafficPolicy: {mode: REGISTRY_ONLY}
            """);
    assertThat(errors).isEmpty();
    assertThat(store.current().trustDomain()).isEqualTo("corp.example");
    assertThat(seen).singleElement().isEqualTo(store.current());
  }

  @Test
  void aBadMeshConfigIsRefusedNamingTheFieldAndTheLastGoodStays() {
    assertThat(store.update("mesh.yaml", "trustDomain: corp.example\n")).isEmpty();
    List<Message> errors =
        store.update(
            "istio.yaml",
            """
            kind: ConfigMap
            metadata: {name: istio, namespace: istio-system}
            data:
              mesh: |-
                outboundTrafficPolicy: {mode: NEVER}
            """);
    assertThat(errors)
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.path()).isEqualTo("outboundTrafficPolicy.mode");
              assertThat(m.resource()).contains("ConfigMap istio-system/istio data.mesh");
            });
    assertThat(store.current().trustDomain()).isEqualTo("corp.example");
    assertThat(store.rejection()).isPresent();

    List<Message> missing =
        store.update("istio.yaml", "kind: ConfigMap\nmetadata: {name: istio}\ndata: {}\n");
    assertThat(missing).singleElement().satisfies(m -> assertThat(m.path()).isEqualTo("data.mesh"));
    assertThat(store.current().trustDomain()).isEqualTo("corp.example");
  }
}
