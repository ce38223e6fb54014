package dev.bowline.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class WorkloadIdentityTest {
  @Test
  void parsesAndPrintsIstioSpiffeIds() {
    WorkloadIdentity id = WorkloadIdentity.parse("spiffe://cluster.local/ns/weather/sa/forecast");
    assertThat(id).isEqualTo(new WorkloadIdentity("cluster.local", "weather", "forecast"));
    assertThat(id.spiffeId()).isEqualTo("spiffe://cluster.local/ns/weather/sa/forecast");
  }

  @Test
  void refusesOtherShapesNamingTheProblem() {
    assertThatThrownBy(() -> WorkloadIdentity.parse("https://cluster.local/ns/a/sa/b"))
        .hasMessageContaining("must start with spiffe://");
    assertThatThrownBy(() -> WorkloadIdentity.parse("spiffe://cluster.local/ns/a"))
        .hasMessageContaining(
            "expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>");
    assertThatThrownBy(() -> WorkloadIdentity.parse("spiffe://cluster.local/ns//sa/b"))
        .hasMessageContaining("namespace must not be empty");
    assertThatThrownBy(() -> new WorkloadIdentity("cluster.local", "a b", "c"))
        .hasMessageContaining("namespace 'a b' has a character not allowed");
  }
}
