package dev.bowline.proxy.config;

/**
 * One of a route's {@code request_mirror_policies}: a copy of the request goes to {@code cluster}
 * for {@code perMillion} of the requests; its response is dropped.
 */
public record RequestMirror(String cluster, int perMillion) {
  public RequestMirror {
    if (perMillion < 0 || perMillion > 1_000_000) {
      throw new IllegalArgumentException("perMillion must be in [0, 1000000]");
    }
  }
}
