package dev.bowline.samples.weather;

import java.nio.charset.StandardCharsets;

/**
 * An answer from an endpoint.
 *
 * @param status the HTTP status
 * @param contentType the Content-Type header
 * @param body the body bytes
 */
record Response(int status, String contentType, byte[] body) {

  static final String JSON = "application/json; charset=utf-8";

  static Response json(int status, byte[] body) {
    return new Response(status, JSON, body);
  }

  static Response html(String page) {
    return new Response(200, "text/html; charset=utf-8", page.getBytes(StandardCharsets.UTF_8));
  }
}
