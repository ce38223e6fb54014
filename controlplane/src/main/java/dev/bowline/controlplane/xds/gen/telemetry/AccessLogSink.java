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
 * @param filter a CEL expression (Telemetry {@code accessLogging[].filter.expression}): only
 *     requests for which it is true are logged; empty logs every request
 */
public record AccessLogSink(
    String path, boolean json, String textFormat, Map<String, String> jsonLabels, String filter) {
  public AccessLogSink {
    jsonLabels = Map.copyOf(jsonLabels);
  }

  /** A sink of every request. */
  public AccessLogSink(
      String path, boolean json, String textFormat, Map<String, String> jsonLabels) {
    this(path, json, textFormat, jsonLabels, "");
  }
}
