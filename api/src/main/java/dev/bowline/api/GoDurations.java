package dev.bowline.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdScalarSerializer;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as Istio writes them in YAML: Go's syntax ({@code 1h30m}, {@code 2.5s}, {@code 100ms},
 * {@code 10us}). Negative durations parse (validation rejects them with the field's path).
 */
final class GoDurations {
  private GoDurations() {}

  private static final Pattern PART =
      Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");

  static Duration parse(String text) {
    String s = text.strip();
    boolean negative = s.startsWith("-");
    if (negative || s.startsWith("+")) {
      s = s.substring(1);
    }
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    if (s.isEmpty()) {
      throw new IllegalArgumentException("invalid duration \"" + text + "\"");
    }
    Matcher m = PART.matcher(s);
    BigDecimal nanos = BigDecimal.ZERO;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException(
            "invalid duration \"" + text + "\" (use a unit: h, m, s, ms, us, ns)");
      }
      BigDecimal unit =
          switch (m.group(2)) {
            case "ns" -> BigDecimal.ONE;
            case "us", "µs" -> BigDecimal.valueOf(1_000L);
            case "ms" -> BigDecimal.valueOf(1_000_000L);
            case "s" -> BigDecimal.valueOf(1_000_000_000L);
            case "m" -> BigDecimal.valueOf(60_000_000_000L);
            default -> BigDecimal.valueOf(3_600_000_000_000L);
          };
      nanos = nanos.add(new BigDecimal(m.group(1)).multiply(unit));
      at = m.end();
    }
    Duration d = Duration.ofNanos(nanos.longValue());
    return negative ? d.negated() : d;
  }

  static String format(Duration d) {
    if (d.isNegative()) {
      return "-" + format(d.negated());
    }
    long seconds = d.getSeconds();
    int nanos = d.getNano();
    if (nanos == 0) {
      if (seconds != 0 && seconds % 3600 == 0) {
        return seconds / 3600 + "h";
      }
      if (seconds != 0 && seconds % 60 == 0) {
        return seconds / 60 + "m";
      }
      return seconds + "s";
    }
    if (nanos % 1_000_000 == 0) {
      return (seconds * 1000 + nanos / 1_000_000) + "ms";
    }
    return BigDecimal.valueOf(seconds)
            .add(BigDecimal.valueOf(nanos, 9))
            .stripTrailingZeros()
            .toPlainString()
        + "s";
  }

  static SimpleModule module() {
    SimpleModule module = new SimpleModule("bowline-durations");
    module.addDeserializer(Duration.class, new Deserializer());
    module.addSerializer(Duration.class, new Serializer());
    return module;
  }

  private static final class Deserializer extends StdScalarDeserializer<Duration> {
    Deserializer() {
      super(Duration.class);
    }

    @Override
    public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken() != JsonToken.VALUE_STRING) {
        return (Duration)
            ctxt.handleUnexpectedToken(
                Duration.class,
                p.currentToken(),
                p,
                "a duration is a string with a unit, e.g. \"10s\" or \"100ms\"");
      }
      String text = p.getText();
      try {
        return parse(text);
      } catch (IllegalArgumentException | ArithmeticException e) {
        return (Duration) ctxt.handleWeirdStringValue(Duration.class, text, e.getMessage());
      }
    }
  }

  private static final class Serializer extends StdScalarSerializer<Duration> {
    Serializer() {
      super(Duration.class);
    }

    @Override
    public void serialize(Duration value, JsonGenerator gen, SerializerProvider provider)
        throws IOException {
      gen.writeString(format(value));
    }
  }
}
