package dev.bowline.config.analysis;

import java.util.Locale;

/**
 * One finding, shaped like istioctl's: {@code Error [IST0101] (VirtualService weather/forecast)
 * Referenced host not found: "forecats"}.
 *
 * @param code Istio's message code, e.g. {@code IST0101}
 * @param name Istio's message name, e.g. {@code ReferencedResourceNotFound}
 * @param level how bad it is
 * @param origin the resource it is about, e.g. {@code VirtualService weather/forecast}
 * @param message the text
 */
public record AnalysisMessage(
    String code, String name, Level level, String origin, String message) {

  /** Severity, as istioctl names it. */
  public enum Level {
    ERROR,
    WARNING,
    INFO;

    /** {@code Error}, {@code Warning}, {@code Info}. */
    public String display() {
      String n = name().toLowerCase(Locale.ROOT);
      return Character.toUpperCase(n.charAt(0)) + n.substring(1);
    }
  }

  /** Istio's documentation page for this code; empty for Bowline's own (BWL) codes. */
  public String documentationUrl() {
    if (!code.startsWith("IST")) {
      return "";
    }
    return "https://istio.io/latest/docs/reference/config/analysis/"
        + code.toLowerCase(Locale.ROOT)
        + "/";
  }

  @Override
  public String toString() {
    return level.display() + " [" + code + "] (" + origin + ") " + message;
  }
}
