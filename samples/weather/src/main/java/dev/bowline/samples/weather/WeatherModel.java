package dev.bowline.samples.weather;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The app's made-up data: a fixed list of cities, a three-day forecast that is a pure function of
 * (city, date) so every instance and version agrees, the recommendations for a day's weather, and
 * the advertisements. Nothing here is random across calls: versions differ by features, not data.
 */
final class WeatherModel {

  /** A city and its climate: a typical high in degrees Celsius and how often it rains (0-1). */
  record City(String id, String name, int typicalHigh, double wetness) {}

  /** One day's weather; the date in ISO form (2026-11-25). */
  record Day(String date, String condition, int high, int low, int humidity, int wind) {}

  /** One recommendation: a kind (clothing, umbrella, activity, health, travel) and its text. */
  record Item(String kind, String text) {}

  /** One advertisement. */
  record Ad(String id, String title, String text) {}

  static final List<City> CITIES =
      List.of(
          new City("beijing", "Beijing", 12, 0.20),
          new City("shanghai", "Shanghai", 17, 0.45),
          new City("guangzhou", "Guangzhou", 25, 0.55),
          new City("shenzhen", "Shenzhen", 25, 0.50),
          new City("hangzhou", "Hangzhou", 17, 0.50),
          new City("chengdu", "Chengdu", 15, 0.60),
          new City("xian", "Xi'an", 13, 0.25),
          new City("harbin", "Harbin", -6, 0.15),
          new City("lhasa", "Lhasa", 8, 0.10),
          new City("kunming", "Kunming", 18, 0.40));

  private static final List<Ad> ADS_V1 =
      List.of(
          new Ad(
              "umbrella", "Never get caught in the rain", "Folding umbrellas, 20% off this week."),
          new Ad("tea", "A warm cup for every weather", "Fresh West Lake tea, delivered tomorrow."),
          new Ad("bike", "Ride with the wind", "City bikes by the hour, first ride free."));

  private static final List<Ad> ADS_V2 =
      List.of(
          new Ad(
              "jacket",
              "New: the all-weather jacket",
              "Wind- and waterproof, now in five colours."),
          new Ad("trip", "New: weekend trips", "Sunny destinations picked from the forecast."),
          new Ad(
              "coffee", "New: iced or hot", "Our coffee adapts to the weather. So do our prices."));

  private WeatherModel() {}

  /** The city whose id or name is {@code text}, case-insensitive. */
  static Optional<City> city(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    return CITIES.stream()
        .filter(c -> c.id().equals(t) || c.name().toLowerCase(Locale.ROOT).equals(t))
        .findFirst();
  }

  /** The city or a clear error naming the parameter and the known cities. */
  static City requireCity(String text) {
    return city(text)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "city: unknown city '"
                        + text
                        + "'; known: "
                        + String.join(", ", CITIES.stream().map(City::id).toList())));
  }

  /** Three days of weather from {@code today}. */
  static List<Day> forecast(City city, LocalDate today) {
    List<Day> days = new ArrayList<>(3);
    for (int i = 0; i < 3; i++) {
      days.add(day(city, today.plusDays(i)));
    }
    return days;
  }

  static Day day(City city, LocalDate date) {
    SplittableRandom r = new SplittableRandom(city.id().hashCode() * 31L + date.toEpochDay());
    int high = city.typicalHigh() + r.nextInt(-4, 5);
    int low = high - r.nextInt(4, 11);
    boolean wet = r.nextDouble() < city.wetness();
    String condition;
    if (wet) {
      condition = low <= 0 ? "snow" : r.nextBoolean() ? "light rain" : "heavy rain";
    } else {
      condition = List.of("sunny", "cloudy", "overcast", "sunny").get(r.nextInt(4));
    }
    int humidity = wet ? r.nextInt(70, 96) : r.nextInt(25, 70);
    return new Day(date.toString(), condition, high, low, humidity, r.nextInt(1, 7));
  }

  /** What to wear and do; v2 adds a travel hint. */
  static List<Item> recommend(String condition, int high, int low, String version) {
    List<Item> items = new ArrayList<>();
    String clothing;
    if (low < -5) {
      clothing = "A down jacket, a hat and gloves.";
    } else if (low < 5) {
      clothing = "A warm coat and a scarf.";
    } else if (high < 18) {
      clothing = "A jacket or a sweater.";
    } else if (high < 28) {
      clothing = "A long-sleeved shirt; a light jacket for the evening.";
    } else {
      clothing = "Light, breathable clothes.";
    }
    items.add(new Item("clothing", clothing));
    switch (condition) {
      case "light rain" -> items.add(new Item("umbrella", "Take a small umbrella."));
      case "heavy rain" -> {
        items.add(new Item("umbrella", "Take a big umbrella and waterproof shoes."));
        items.add(new Item("activity", "A museum or a film: stay indoors."));
      }
      case "snow" -> items.add(new Item("activity", "Skiing, or a snowman in the park."));
      case "sunny" -> {
        items.add(new Item("activity", "A walk or a bike ride outdoors."));
        if (high >= 25) {
          items.add(new Item("health", "Sunscreen and plenty of water."));
        }
      }
      default -> items.add(new Item("activity", "Good weather for a city walk."));
    }
    if (version.equals("v2")) {
      items.add(
          new Item(
              "travel",
              high - low >= 8
                  ? "Large swing between day and night: dress in layers."
                  : "Steady temperatures: a good day for a trip."));
    }
    return items;
  }

  /** The advertisement for a city: v1 and v2 have their own campaigns. */
  static Ad advertisement(String cityId, String version) {
    List<Ad> ads = version.equals("v2") ? ADS_V2 : ADS_V1;
    return ads.get(Math.floorMod(cityId.hashCode(), ads.size()));
  }
}
