package dev.bowline.proxy.http.filter.stats;

import java.util.List;

/** Istio's standard label names, in the order Istio writes them. */
public final class Labels {
  private Labels() {}

  public static final List<String> NAMES =
      List.of(
          "reporter",
          "source_workload",
          "source_canonical_service",
          "source_canonical_revision",
          "source_workload_namespace",
          "source_principal",
          "source_app",
          "source_version",
          "source_cluster",
          "destination_workload",
          "destination_workload_namespace",
          "destination_principal",
          "destination_app",
          "destination_version",
          "destination_service",
          "destination_canonical_service",
          "destination_canonical_revision",
          "destination_service_name",
          "destination_service_namespace",
          "destination_cluster",
          "request_protocol",
          "response_code",
          "grpc_response_status",
          "response_flags",
          "connection_security_policy");

  /** Index of {@code request_protocol}: the labels from here on vary per request. */
  static final int FIRST_PER_REQUEST = NAMES.indexOf("request_protocol");
}
