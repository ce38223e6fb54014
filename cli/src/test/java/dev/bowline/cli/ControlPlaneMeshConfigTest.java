package dev.bowline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code bowline control-plane --mesh-config FILE}: as istiod, a MeshConfig that does not read at
 * start is fatal, and the error names the file and the field.
 */
class ControlPlaneMeshConfigTest {
  @TempDir Path dir;

  @Test
  void anInvalidMeshConfigAtStartStopsTheControlPlaneNamingTheField() throws Exception {
    Path mesh = dir.resolve("mesh");
    Files.writeString(mesh, "outboundTrafficPolicy: {mode: BLOCK_EVERYTHING}\n");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Main.newCommandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int code =
        cmd.execute(
            "control-plane",
            "--mesh-config",
            mesh.toString(),
            "--address",
            "127.0.0.88",
            "--xds-port",
            "0",
            "--monitoring-port",
            "0");
    assertThat(code).isEqualTo(1);
    assertThat(err.toString())
        .contains("invalid MeshConfig")
        .contains(mesh + ": outboundTrafficPolicy.mode: unknown value \"BLOCK_EVERYTHING\"");
  }
}
