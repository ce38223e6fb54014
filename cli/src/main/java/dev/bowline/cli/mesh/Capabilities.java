package dev.bowline.cli.mesh;

/**
 * Which parts of the mesh this build of {@code bowline} can run, asked of the CLI itself (a
 * subcommand still in {@code PlannedCommands} is not built): the runner turns each step on when its
 * command exists, with no flag to flip.
 *
 * @param controlPlane {@code bowline control-plane --registry FILE} is built (issue #5)
 * @param controlPlaneConfigDir it also takes {@code --config-dir DIR}
 * @param proxy {@code bowline proxy -c FILE} is built (issue #6)
 * @param disabled the user asked for no mesh ({@code --no-mesh}), whatever is built
 */
public record Capabilities(
    boolean controlPlane, boolean controlPlaneConfigDir, boolean proxy, boolean disabled) {
  /** Nothing of the mesh is built: apps run unmeshed. */
  public static final Capabilities NONE = new Capabilities(false, false, false, false);

  /** {@code --no-mesh}: apps run unmeshed even if the mesh's commands are built. */
  public static final Capabilities DISABLED = new Capabilities(false, false, false, true);

  /** Whether sidecars run: they need both a proxy and a control plane to configure it. */
  public boolean sidecars() {
    return controlPlane && proxy;
  }

  /** What is missing for a meshed run, as one phrase; empty when nothing is. */
  public String missing() {
    if (sidecars()) {
      return "";
    }
    if (disabled) {
      return "--no-mesh was given";
    }
    if (!controlPlane && !proxy) {
      return "bowline control-plane (issue #5) and bowline proxy (issue #6) are not built yet";
    }
    return controlPlane
        ? "bowline proxy (issue #6) is not built yet"
        : "bowline control-plane (issue #5) is not built yet";
  }
}
