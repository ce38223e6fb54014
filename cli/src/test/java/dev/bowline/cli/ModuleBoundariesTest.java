package dev.bowline.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * ARCHITECTURE.md section 2, contract 3: the proxy knows nothing about Istio. Module {@code proxy}
 * may use Envoy's protos, never Bowline's Istio-level modules nor an Istio model. The reactor keeps
 * those jars off the proxy's compile path; this test keeps the packages apart even if someone adds
 * the dependency.
 */
class ModuleBoundariesTest {

  static final ArchRule PROXY_KNOWS_NOTHING_OF_ISTIO =
      noClasses()
          .that()
          .resideInAPackage("dev.bowline.proxy..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.bowline.api..",
              "dev.bowline.config..",
              "dev.bowline.controlplane..",
              "dev.bowline.kube..",
              "dev.bowline.cli..",
              "io.fabric8.istio..",
              "istio..")
          .because("the proxy is configured by Envoy xDS only (ARCHITECTURE.md section 2.3)");

  @Test
  void proxyDependsOnNoIstioLevelModule() {
    JavaClasses production =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.bowline");
    assertThat(production.stream().filter(c -> c.getPackageName().startsWith("dev.bowline.proxy")))
        .as("the rule must see the proxy's classes, or it proves nothing")
        .isNotEmpty();
    PROXY_KNOWS_NOTHING_OF_ISTIO.check(production);
  }

  @Test
  void ruleFailsWhenTheProxyReachesIntoTheCli() {
    JavaClasses offender =
        new ClassFileImporter()
            .importClasses(
                dev.bowline.proxy.archfixture.ProxyClassThatBreaksTheRule.class, Main.class);
    assertThatThrownBy(() -> PROXY_KNOWS_NOTHING_OF_ISTIO.check(offender))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("ProxyClassThatBreaksTheRule")
        .hasMessageContaining("dev.bowline.cli.Main");
  }
}
