package dev.bowline.samples.weather;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Forecast: three days of weather for a city. Version v2 also asks recommendation about today's
 * weather and adds its answer as the {@code recommendation} part (v1 has no such field); a failed
 * recommendation is reported there, the weather is still served.
 */
final class Forecast implements Endpoints {

  private final Identity identity;
  private final Upstream upstream;
  private final URI recommendationUrl;
  private final ObjectMapper json;
  private final Clock clock;

  Forecast(
      Identity identity, Upstream upstream, URI recommendationUrl, ObjectMapper json, Clock clock) {
    this.identity = identity;
    this.upstream = upstream;
    this.recommendationUrl = recommendationUrl;
    this.json = json;
    this.clock = clock;
  }

  @Override
  public @Nullable Response handle(Request request) throws Exception {
    if (!request.path().equals("/api/forecast")) {
      return null;
    }
    WeatherModel.City city = WeatherModel.requireCity(request.requireParam("city"));
    List<WeatherModel.Day> days = WeatherModel.forecast(city, LocalDate.now(clock));
    ObjectNode out = json.valueToTree(identity);
    out.put("city", city.name());
    out.set("days", json.valueToTree(days));
    if (identity.version().equals("v2")) {
      WeatherModel.Day today = days.getFirst();
      String q =
          "/api/recommendations?city="
              + URLEncoder.encode(city.id(), StandardCharsets.UTF_8)
              + "&condition="
              + URLEncoder.encode(today.condition(), StandardCharsets.UTF_8)
              + "&high="
              + today.high()
              + "&low="
              + today.low();
      upstream
          .get(recommendationUrl, q, request.propagated())
          .join()
          .toPart(out.putObject("recommendation"));
    }
    return Response.json(200, json.writeValueAsBytes(out));
  }
}
