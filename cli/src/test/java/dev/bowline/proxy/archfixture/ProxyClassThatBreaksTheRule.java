package dev.bowline.proxy.archfixture;

import dev.bowline.cli.Main;

/** Test fixture: a class in a proxy package that depends on the CLI, as the rule forbids. */
public final class ProxyClassThatBreaksTheRule {
  private ProxyClassThatBreaksTheRule() {}

  public static int breakTheRule() {
    return Main.run("version");
  }
}
