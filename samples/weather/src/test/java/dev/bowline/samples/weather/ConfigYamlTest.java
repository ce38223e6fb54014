package dev.bowline.samples.weather;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigYamlTest {

  private static final Path CONFIG = Path.of("config");

  @Test
  void everyFileIsIstioYamlForTheWeatherNamespaceAndEveryScenarioFitsTheBase() throws IOException {
    ConfigCheck check = new ConfigCheck();

    assertThat(check.check(CONFIG)).isEmpty();
    assertThat(check.documents()).isGreaterThanOrEqualTo(30);
  }

  @Test
  void theBookScenariosAreAllThere() throws IOException {
    for (String folder :
        new String[] {
          "base",
          "canary-weight",
          "canary-header",
          "canary-combined",
          "canary-multi-service",
          "lb-round-robin",
          "lb-random",
          "session-affinity",
          "fault",
          "timeout",
          "retry",
          "circuit-breaker",
          "outlier-detection",
          "mirroring"
        }) {
      try (var files = Files.list(CONFIG.resolve(folder))) {
        assertThat(files.filter(p -> p.toString().endsWith(".yaml"))).as(folder).isNotEmpty();
      }
    }
  }

  @Test
  void theCheckFindsEachKindOfMistake(@TempDir Path config) throws IOException {
    Files.createDirectories(config.resolve("base"));
    Files.createDirectories(config.resolve("broken"));
    Files.writeString(
        config.resolve("base/forecast.yaml"),
        """
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: forecast, namespace: weather}
        spec:
          hosts: [forecast]
          http:
          - route:
            - destination: {host: forecast, subset: v1}
        ---
        apiVersion: networking.istio.io/v1beta1
        kind: DestinationRule
        metadata: {name: forecast, namespace: weather}
        spec:
          host: forecast
          subsets:
          - {name: v1, labels: {version: v1}}
        """);
    Files.writeString(
        config.resolve("broken/forecast.yaml"),
        """
        apiVersion: networking.istio.io/v1beta1
        kind: VirtualService
        metadata: {name: forecast, namespace: default}
        spec:
          hosts: [forecast]
          gateways: [nowhere]
          http:
          - retries: {attempts: 3, perTryTimout: 2s}
            route:
            - destination: {host: forecast, subset: v1}
              weight: 80
            - destination: {host: forecast, subset: v3}
              weight: 10
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: Weather, namespace: weather}
        spec: {}
        """);
    Files.writeString(config.resolve("README.md"), "| `base` | x |\n| `gone` | y |\n");

    assertThat(new ConfigCheck().check(config))
        .containsExactlyInAnyOrder(
            "broken/forecast.yaml doc 0: metadata.namespace: 'default', expected 'weather'",
            "broken/forecast.yaml doc 0: spec.http[0].retries: unknown fields [perTryTimout]",
            "broken/forecast.yaml doc 1: kind: 'Ingress' is not one of [DestinationRule, Gateway, Sidecar, VirtualService]",
            "broken/forecast.yaml doc 1: apiVersion: 'networking.k8s.io/v1' is not one of"
                + " [networking.istio.io/v1, networking.istio.io/v1alpha3, networking.istio.io/v1beta1]",
            "broken/forecast.yaml doc 1: metadata.name: 'Weather' is not a DNS label",
            "broken/forecast.yaml doc 1: Ingress/Weather replaces nothing in base/ (a scenario must only replace base resources)",
            "broken: broken/forecast.yaml doc 0: spec.gateways: unknown gateway 'nowhere'",
            "broken: broken/forecast.yaml doc 0: spec.http[0].route[1].destination.subset: 'v3' is not a subset of forecast [v1]",
            "broken: broken/forecast.yaml doc 0: spec.http[0].route: weights add up to 90, not 100",
            "README.md: scenario folder 'broken' is not in the table",
            "README.md: lists 'gone', which has no folder");
  }
}
