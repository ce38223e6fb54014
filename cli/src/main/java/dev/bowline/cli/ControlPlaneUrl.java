package dev.bowline.cli;

import picocli.CommandLine.Option;

/** The {@code --control-plane URL} option of the commands that talk to a running control plane. */
final class ControlPlaneUrl {
  @Option(
      names = "--control-plane",
      defaultValue = ControlPlaneClient.DEFAULT_URL,
      description = "The control plane's monitoring URL (default: ${DEFAULT-VALUE}).")
  String url = ControlPlaneClient.DEFAULT_URL;
}
