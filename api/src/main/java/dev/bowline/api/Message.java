package dev.bowline.api;

/**
 * One finding about one resource, formatted {@code <resource>: <path>: <text>}, e.g. {@code
 * VirtualService weather/forecast: spec.http[0].route[1].weight: must not be negative}.
 *
 * @param resource the resource, e.g. {@code VirtualService weather/forecast}, or where a document
 *     without identity came from, e.g. {@code config/app.yaml document 3}
 * @param path the field path, e.g. {@code spec.hosts[0]}; empty for the whole resource
 * @param text what is wrong
 */
public record Message(String resource, String path, String text) {
  @Override
  public String toString() {
    return path.isEmpty() ? resource + ": " + text : resource + ": " + path + ": " + text;
  }
}
