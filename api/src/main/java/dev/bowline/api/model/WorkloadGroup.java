package dev.bowline.api.model;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** networking.istio.io WorkloadGroup: a template for WorkloadEntries and their readiness probe. */
public record WorkloadGroup(
    @Nullable ObjectMeta metadata, @Nullable WorkloadEntry template, @Nullable ReadinessProbe probe)
    implements Spec {

  /** Labels and annotations copied onto each WorkloadEntry. */
  public record ObjectMeta(Map<String, String> labels, Map<String, String> annotations) {
    public ObjectMeta {
      labels = Freeze.map(labels);
      annotations = Freeze.map(annotations);
    }
  }

  /** A readiness probe: one of httpGet, tcpSocket, exec or grpc. */
  public record ReadinessProbe(
      @Nullable Integer initialDelaySeconds,
      @Nullable Integer timeoutSeconds,
      @Nullable Integer periodSeconds,
      @Nullable Integer successThreshold,
      @Nullable Integer failureThreshold,
      @Nullable HTTPHealthCheckConfig httpGet,
      @Nullable TCPHealthCheckConfig tcpSocket,
      @Nullable ExecHealthCheckConfig exec,
      @Nullable GrpcHealthCheckConfig grpc) {
    public ReadinessProbe {
      Freeze.atMostOne("httpGet, tcpSocket, exec, grpc", httpGet, tcpSocket, exec, grpc);
    }
  }

  /** HTTP GET probe. */
  public record HTTPHealthCheckConfig(
      @Nullable String path,
      @Nullable Integer port,
      @Nullable String host,
      @Nullable String scheme,
      List<HTTPHeader> httpHeaders) {
    public HTTPHealthCheckConfig {
      httpHeaders = Freeze.list(httpHeaders);
    }
  }

  /** A header sent with an HTTP probe. */
  public record HTTPHeader(@Nullable String name, @Nullable String value) {}

  /** TCP connect probe. */
  public record TCPHealthCheckConfig(@Nullable String host, @Nullable Integer port) {}

  /** Command probe. */
  public record ExecHealthCheckConfig(List<String> command) {
    public ExecHealthCheckConfig {
      command = Freeze.list(command);
    }
  }

  /** gRPC health probe. */
  public record GrpcHealthCheckConfig(@Nullable Integer port, @Nullable String service) {}
}
