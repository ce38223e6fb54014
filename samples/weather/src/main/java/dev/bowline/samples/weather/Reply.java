package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/** What an outbound call came back with: an HTTP answer (any status) or no answer at all. */
sealed interface Reply {

  /**
   * The upstream (or a proxy on the way) answered.
   *
   * @param status the HTTP status
   * @param servedBy the app instance that answered, or null when a proxy answered (e.g. a 504 from
   *     the sidecar, an injected fault)
   * @param body the JSON body, or null when the body was not JSON
   * @param text the body as text, for error messages
   */
  record Answered(int status, @Nullable Identity servedBy, @Nullable JsonNode body, String text)
      implements Reply {}

  /**
   * No answer: connection refused, reset, or the app's own upstream timeout.
   *
   * @param reason what went wrong, naming the upstream
   */
  record Failed(String reason) implements Reply {}

  /** Whether the call gave a 2xx answer with a JSON body. */
  default boolean ok() {
    return this instanceof Answered a && a.status() / 100 == 2 && a.body() != null;
  }

  /**
   * The reply as one part of a composed answer: {@code ok}, {@code status} (0 when there was no
   * answer), who served it, and {@code body} when ok or {@code error} when not.
   */
  default ObjectNode toPart(ObjectNode part) {
    part.put("ok", ok());
    switch (this) {
      case Answered a -> {
        part.put("status", a.status());
        if (a.servedBy() != null) {
          part.put("service", a.servedBy().service());
          part.put("version", a.servedBy().version());
          part.put("instance", a.servedBy().instance());
        }
        if (ok()) {
          part.set("body", a.body());
        } else {
          String text = a.text().strip();
          part.put(
              "error", "HTTP " + a.status() + (text.isEmpty() ? "" : ": " + abbreviate(text, 300)));
        }
      }
      case Failed f -> {
        part.put("status", 0);
        part.put("error", f.reason());
      }
    }
    return part;
  }

  private static String abbreviate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max) + "...";
  }
}
