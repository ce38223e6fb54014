package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The frontend: the page, the list of cities, and the dashboard, which asks forecast and
 * advertisement at once and reports each part with who served it. A failed part is reported in the
 * dashboard (status 200) and never takes the other part down.
 */
final class Frontend implements Endpoints {

  private final Identity identity;
  private final Upstream upstream;
  private final URI forecastUrl;
  private final URI advertisementUrl;
  private final ObjectMapper json;
  private final String page;

  Frontend(
      Identity identity,
      Upstream upstream,
      URI forecastUrl,
      URI advertisementUrl,
      ObjectMapper json,
      String pageTemplate) {
    this.identity = identity;
    this.upstream = upstream;
    this.forecastUrl = forecastUrl;
    this.advertisementUrl = advertisementUrl;
    this.json = json;
    this.page =
        pageTemplate
            .replace("__FRONTEND_VERSION__", identity.version())
            .replace("__FRONTEND_INSTANCE__", identity.instance().replace("<", "&lt;"));
  }

  @Override
  public @Nullable Response handle(Request request) throws Exception {
    return switch (request.path()) {
      case "/", "/index.html" -> Response.html(page);
      case "/api/cities" -> cities();
      case "/api/dashboard" -> dashboard(request);
      default -> null;
    };
  }

  private Response cities() throws Exception {
    ObjectNode out = json.createObjectNode();
    out.set("frontend", json.valueToTree(identity));
    ArrayNode cities = out.putArray("cities");
    for (WeatherModel.City c : WeatherModel.CITIES) {
      cities.addObject().put("id", c.id()).put("name", c.name());
    }
    return Response.json(200, json.writeValueAsBytes(out));
  }

  private Response dashboard(Request request) throws Exception {
    WeatherModel.City city = WeatherModel.requireCity(request.requireParam("city"));
    String q = "?city=" + URLEncoder.encode(city.id(), StandardCharsets.UTF_8);
    CompletableFuture<Reply> forecast =
        upstream.get(forecastUrl, "/api/forecast" + q, request.propagated());
    CompletableFuture<Reply> ad =
        upstream.get(advertisementUrl, "/api/ad" + q, request.propagated());
    ObjectNode out = json.createObjectNode();
    out.set("frontend", json.valueToTree(identity));
    out.put("city", city.name());
    forecast.join().toPart(out.putObject("forecast"));
    ad.join().toPart(out.putObject("advertisement"));
    return Response.json(200, json.writeValueAsBytes(out));
  }
}
