package dev.bowline.samples.weather;

import org.jspecify.annotations.Nullable;

/** The API of one role. The server around it does health, admin, switches and headers. */
@FunctionalInterface
interface Endpoints {

  /**
   * Answers a request, or returns null when no endpoint has this path (a 404). An {@link
   * IllegalArgumentException} becomes a 400 with its message.
   */
  @Nullable Response handle(Request request) throws Exception;
}
