package dev.bowline.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * The subcommands that later work fills in. Each is listed in {@code bowline --help} so the shape
 * of the CLI is visible; run before it exists, it says which issue tracks it and exits 3. A
 * subcommand moves out of this file into its own class when it gets its implementation.
 */
final class PlannedCommands {
  private PlannedCommands() {}

  /** Exit code of a subcommand that is not built yet. */
  static final int NOT_BUILT = 3;

  abstract static class Planned implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Unmatched java.util.List<String> ignored;

    abstract int issue();

    @Override
    public Integer call() {
      spec.commandLine()
          .getErr()
          .println(
              "bowline "
                  + spec.name()
                  + ": not built yet (tracked in issue #"
                  + issue()
                  + "); see README.md for what runs today");
      return NOT_BUILT;
    }
  }

  @Command(name = "demo", description = "Run the Weather Forecast mesh on this machine (issue #7).")
  static final class Demo extends Planned {
    @Override
    int issue() {
      return 7;
    }
  }

  @Command(name = "up", description = "Mesh a set of local processes from mesh.yaml (issue #7).")
  static final class Up extends Planned {
    @Override
    int issue() {
      return 7;
    }
  }

  @Command(
      name = "control-plane",
      description = "Run the control plane: config store, registry, xDS server, CA (issue #5).")
  static final class ControlPlane extends Planned {
    @Override
    int issue() {
      return 5;
    }
  }

  @Command(name = "validate", description = "Validate Istio configuration files (issue #4).")
  static final class Validate extends Planned {
    @Override
    int issue() {
      return 4;
    }
  }

  @Command(
      name = "analyze",
      description = "Analyze Istio configuration across resources (issue #4).")
  static final class Analyze extends Planned {
    @Override
    int issue() {
      return 4;
    }
  }

  @Command(name = "apply", description = "Apply Istio configuration to a running mesh (issue #7).")
  static final class Apply extends Planned {
    @Override
    int issue() {
      return 7;
    }
  }

  @Command(
      name = "delete",
      description = "Delete Istio configuration from a running mesh (issue #7).")
  static final class Delete extends Planned {
    @Override
    int issue() {
      return 7;
    }
  }

  @Command(name = "proxy-status", description = "Show each proxy's xDS sync state (issue #5).")
  static final class ProxyStatus extends Planned {
    @Override
    int issue() {
      return 5;
    }
  }

  @Command(
      name = "proxy-config",
      description = "Show a proxy's clusters, listeners, routes or endpoints (issue #5).")
  static final class ProxyConfig extends Planned {
    @Override
    int issue() {
      return 5;
    }
  }

  @Command(name = "dashboard", description = "Serve the live mesh dashboard (issue #10).")
  static final class Dashboard extends Planned {
    @Override
    int issue() {
      return 10;
    }
  }
}
