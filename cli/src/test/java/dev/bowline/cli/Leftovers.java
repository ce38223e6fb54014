package dev.bowline.cli;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The processes a test started, killed after it with everything they started (a failed test's
 * leftovers must not hold the next test's addresses): {@code @RegisterExtension final Leftovers
 * started = new Leftovers();} then {@code started.add(process)}.
 */
final class Leftovers implements AfterEachCallback {
  private final List<Process> started = new ArrayList<>();

  /** Kills {@code p} and its descendants after the test. */
  void add(Process p) {
    started.add(p);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    started.clear();
  }
}
