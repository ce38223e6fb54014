/**
 * {@code bowline up}: the local mesh runner. Reads {@code mesh.yaml} ({@link MeshFile}), gives each
 * workload instance a loopback address ({@link MeshPlan}), writes the control plane's registry file
 * ({@link RegistryYaml}) and one Envoy bootstrap per instance ({@link SidecarBootstrap}), then
 * starts and supervises the processes ({@link Supervisor}, {@link MeshRunner}).
 */
@NullMarked
package dev.bowline.cli.mesh;

import org.jspecify.annotations.NullMarked;
