package dev.bowline.api.model;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** networking.istio.io ServiceEntry: adds a service to the mesh's registry. */
public record ServiceEntry(
    List<String> hosts,
    List<String> addresses,
    List<Port> ports,
    @Nullable Location location,
    @Nullable Resolution resolution,
    List<WorkloadEntry> endpoints,
    @Nullable WorkloadSelector workloadSelector,
    List<String> exportTo,
    List<String> subjectAltNames)
    implements Spec {
  public ServiceEntry {
    hosts = Freeze.list(hosts);
    addresses = Freeze.list(addresses);
    ports = Freeze.list(ports);
    endpoints = Freeze.list(endpoints);
    exportTo = Freeze.list(exportTo);
    subjectAltNames = Freeze.list(subjectAltNames);
  }

  /** Whether the service is part of the mesh. */
  public enum Location {
    MESH_EXTERNAL,
    MESH_INTERNAL
  }

  /** How the service's endpoints are found. */
  public enum Resolution {
    NONE,
    STATIC,
    DNS,
    DNS_ROUND_ROBIN,
    DYNAMIC_DNS
  }
}
