package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/** Recommendation: what to wear and do for a day's weather; v2 adds a travel hint. */
final class Recommendation implements Endpoints {

  private final Identity identity;
  private final ObjectMapper json;

  Recommendation(Identity identity, ObjectMapper json) {
    this.identity = identity;
    this.json = json;
  }

  @Override
  public @Nullable Response handle(Request request) throws Exception {
    if (!request.path().equals("/api/recommendations")) {
      return null;
    }
    String condition = request.requireParam("condition");
    int high = request.requireInt("high");
    int low = request.requireInt("low");
    ObjectNode out = json.valueToTree(identity);
    String city = request.param("city");
    if (city != null) {
      out.put("city", city);
    }
    out.set(
        "items",
        json.valueToTree(WeatherModel.recommend(condition, high, low, identity.version())));
    return Response.json(200, json.writeValueAsBytes(out));
  }
}
