/** MeshConfig, the mesh-wide settings of {@code mesh.yaml}, with Istio's defaults. */
@NullMarked
package dev.bowline.api.mesh;

import org.jspecify.annotations.NullMarked;
