package dev.bowline.controlplane.xds.gen.telemetry;

import java.util.Map;

/**
 * One file access log a proxy writes: from MeshConfig {@code accessLogFile} or an {@code
 * envoyFileAccessLog} extension provider.
 *
 * @param path the file
 * @param json JSON lines (else text)
 * @param textFormat the text format (text only; Istio's default when empty)
 * @param jsonLabels JSON keys to format strings (JSON only; Istio's default when empty)
 */
public record AccessLogSink(
    String path, boolean json, String textFormat, Map<String, String> jsonLabels) {
  public AccessLogSink {
    jsonLabels = Map.copyOf(jsonLabels);
  }
}
