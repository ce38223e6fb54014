package dev.bowline.api;

import dev.bowline.api.mesh.MeshConfig;
import java.util.List;

/**
 * A {@code mesh.yaml} applied on top of Istio's defaults. When {@code errors} is not empty, {@code
 * config} is the defaults: a bad mesh.yaml is never half applied.
 */
public record DecodedMeshConfig(MeshConfig config, List<Message> errors) {
  public DecodedMeshConfig {
    errors = List.copyOf(errors);
  }
}
