package dev.bowline.controlplane;

import java.time.Duration;
import java.util.Objects;

/**
 * How a control plane runs.
 *
 * @param address the address both servers bind (loopback in local mode)
 * @param xdsPort the ADS port (Istio: 15010); 0 picks a free one
 * @param monitoringPort the debug/metrics HTTP port (Istio: 15014); 0 picks a free one
 * @param debounceQuiet release a push after this long without events ({@code PILOT_DEBOUNCE_AFTER},
 *     100 ms)
 * @param debounceMax release a push at most this long after its first event ({@code
 *     PILOT_DEBOUNCE_MAX}, 10 s)
 * @param pushConcurrency connections pushed at once ({@code PILOT_PUSH_THROTTLE}, 100)
 * @param domainSuffix the cluster's DNS domain ({@code cluster.local})
 * @param workloadEntryGrace how long an auto-registered WorkloadEntry outlives its proxy's stream
 *     ({@code PILOT_WORKLOAD_ENTRY_GRACE_PERIOD}, 10 s): a proxy that reconnects within it keeps
 *     its entry
 */
public record ControlPlaneOptions(
    String address,
    int xdsPort,
    int monitoringPort,
    Duration debounceQuiet,
    Duration debounceMax,
    int pushConcurrency,
    String domainSuffix,
    Duration workloadEntryGrace) {
  /** Istio's defaults on 127.0.0.1. */
  public static final ControlPlaneOptions DEFAULTS =
      new ControlPlaneOptions(
          "127.0.0.1",
          15010,
          15014,
          Duration.ofMillis(100),
          Duration.ofSeconds(10),
          100,
          "cluster.local",
          Duration.ofSeconds(10));

  /** Options with Istio's WorkloadEntry grace period (10 s). */
  public ControlPlaneOptions(
      String address,
      int xdsPort,
      int monitoringPort,
      Duration debounceQuiet,
      Duration debounceMax,
      int pushConcurrency,
      String domainSuffix) {
    this(
        address,
        xdsPort,
        monitoringPort,
        debounceQuiet,
        debounceMax,
        pushConcurrency,
        domainSuffix,
        Duration.ofSeconds(10));
  }

  public ControlPlaneOptions {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(debounceQuiet, "debounceQuiet");
    Objects.requireNonNull(debounceMax, "debounceMax");
    Objects.requireNonNull(domainSuffix, "domainSuffix");
    Objects.requireNonNull(workloadEntryGrace, "workloadEntryGrace");
    checkPort("xdsPort", xdsPort);
    checkPort("monitoringPort", monitoringPort);
    if (pushConcurrency < 1) {
      throw new IllegalArgumentException("pushConcurrency " + pushConcurrency + ": must be >= 1");
    }
  }

  private static void checkPort(String name, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(name + " " + port + ": must be 0..65535");
    }
  }

  /** These options with other ports. */
  public ControlPlaneOptions withPorts(int xds, int monitoring) {
    return new ControlPlaneOptions(
        address,
        xds,
        monitoring,
        debounceQuiet,
        debounceMax,
        pushConcurrency,
        domainSuffix,
        workloadEntryGrace);
  }

  /** These options with another debounce. */
  public ControlPlaneOptions withDebounce(Duration quiet, Duration max) {
    return new ControlPlaneOptions(
        address,
        xdsPort,
        monitoringPort,
        quiet,
        max,
        pushConcurrency,
        domainSuffix,
        workloadEntryGrace);
  }

  /** These options with another WorkloadEntry grace period. */
  public ControlPlaneOptions withWorkloadEntryGrace(Duration grace) {
    return new ControlPlaneOptions(
        address,
        xdsPort,
        monitoringPort,
        debounceQuiet,
        debounceMax,
        pushConcurrency,
        domainSuffix,
        grace);
  }
}
