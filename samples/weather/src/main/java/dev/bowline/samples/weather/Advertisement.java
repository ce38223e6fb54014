package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/** Advertisement: one ad for the page, chosen by city; v1 and v2 run different campaigns. */
final class Advertisement implements Endpoints {

  private final Identity identity;
  private final ObjectMapper json;

  Advertisement(Identity identity, ObjectMapper json) {
    this.identity = identity;
    this.json = json;
  }

  @Override
  public @Nullable Response handle(Request request) throws Exception {
    if (!request.path().equals("/api/ad")) {
      return null;
    }
    String city = request.param("city");
    String cityId = city == null ? "" : WeatherModel.requireCity(city).id();
    ObjectNode out = json.valueToTree(identity);
    out.set("ad", json.valueToTree(WeatherModel.advertisement(cityId, identity.version())));
    return Response.json(200, json.writeValueAsBytes(out));
  }
}
