package dev.bowline.controlplane.registry;

import java.util.Objects;

/** Where a workload runs: Istio's {@code region/zone/subzone}; every part may be empty. */
public record Locality(String region, String zone, String subZone) {
  /** The empty locality (no region, zone or subzone). */
  public static final Locality NONE = new Locality("", "", "");

  public Locality {
    Objects.requireNonNull(region, "region");
    Objects.requireNonNull(zone, "zone");
    Objects.requireNonNull(subZone, "subZone");
  }

  /** Parses Istio's {@code region/zone/subzone} form; missing parts are empty. */
  public static Locality parse(String value) {
    String[] parts = value.split("/", -1);
    if (parts.length > 3) {
      throw new IllegalArgumentException(
          "locality '" + value + "': expected region/zone/subzone (at most two '/')");
    }
    return new Locality(
        parts[0], parts.length > 1 ? parts[1] : "", parts.length > 2 ? parts[2] : "");
  }

  @Override
  public String toString() {
    return region + "/" + zone + "/" + subZone;
  }
}
