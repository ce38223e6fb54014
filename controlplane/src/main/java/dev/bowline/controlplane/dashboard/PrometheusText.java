package dev.bowline.controlplane.dashboard;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): one sample per line,
 * {@code name{label="value",...} value [timestamp]}, {@code #} comments, escapes {@code \\ \" \n}
 * in label values. The Prometheus Java client (1.x, under Micrometer) only writes this format, so
 * the control plane reads it with this small parser. Lines of metrics nobody asked for are skipped
 * after reading their name.
 */
final class PrometheusText {
  private PrometheusText() {}

  /** One sample: a metric name, its labels (in the order written) and its value. */
  record Sample(String name, Map<String, String> labels, double value) {
    Sample {
      labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    }
  }

  /** The text is not in the exposition format; the message names the line. */
  static final class ParseException extends Exception {
    ParseException(int line, String message) {
      super("line " + line + ": " + message);
    }
  }

  /** Every sample of {@code text} whose metric name {@code keep} accepts. */
  static List<Sample> parse(String text, Predicate<String> keep) throws ParseException {
    List<Sample> out = new ArrayList<>();
    int lineNo = 0;
    int pos = 0;
    int n = text.length();
    while (pos < n) {
      int end = text.indexOf('\n', pos);
      if (end < 0) {
        end = n;
      }
      lineNo++;
      String line = text.substring(pos, end);
      pos = end + 1;
      if (line.endsWith("\r")) {
        line = line.substring(0, line.length() - 1);
      }
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.charAt(0) == '#') {
        continue;
      }
      Sample s = sample(trimmed, lineNo, keep);
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  private static @org.jspecify.annotations.Nullable Sample sample(
      String line, int lineNo, Predicate<String> keep) throws ParseException {
    int i = 0;
    int n = line.length();
    while (i < n && nameChar(line.charAt(i), i == 0)) {
      i++;
    }
    if (i == 0) {
      throw new ParseException(lineNo, "expected a metric name, found '" + clip(line) + "'");
    }
    String name = line.substring(0, i);
    if (!keep.test(name)) {
      return null;
    }
    Map<String, String> labels = new LinkedHashMap<>();
    if (i < n && line.charAt(i) == '{') {
      i++;
      while (true) {
        i = skipSpaces(line, i);
        if (i < n && line.charAt(i) == '}') {
          i++;
          break;
        }
        int start = i;
        while (i < n && nameChar(line.charAt(i), i == start) && line.charAt(i) != ':') {
          i++;
        }
        if (i == start) {
          throw new ParseException(lineNo, name + ": expected a label name at column " + (i + 1));
        }
        String label = line.substring(start, i);
        i = skipSpaces(line, i);
        if (i >= n || line.charAt(i) != '=') {
          throw new ParseException(lineNo, name + ": expected '=' after label " + label);
        }
        i = skipSpaces(line, i + 1);
        if (i >= n || line.charAt(i) != '"') {
          throw new ParseException(lineNo, name + ": label " + label + ": expected '\"'");
        }
        i++;
        StringBuilder value = new StringBuilder();
        boolean closed = false;
        while (i < n) {
          char c = line.charAt(i++);
          if (c == '"') {
            closed = true;
            break;
          }
          if (c == '\\') {
            if (i >= n) {
              break;
            }
            char e = line.charAt(i++);
            switch (e) {
              case '\\' -> value.append('\\');
              case '"' -> value.append('"');
              case 'n' -> value.append('\n');
              default ->
                  throw new ParseException(
                      lineNo, name + ": label " + label + ": unknown escape '\\" + e + "'");
            }
          } else {
            value.append(c);
          }
        }
        if (!closed) {
          throw new ParseException(lineNo, name + ": label " + label + ": unterminated value");
        }
        if (labels.put(label, value.toString()) != null) {
          throw new ParseException(lineNo, name + ": label " + label + " appears twice");
        }
        i = skipSpaces(line, i);
        if (i < n && line.charAt(i) == ',') {
          i++;
        } else if (i < n && line.charAt(i) == '}') {
          i++;
          break;
        } else {
          throw new ParseException(lineNo, name + ": expected ',' or '}' after label " + label);
        }
      }
    }
    if (i >= n || (line.charAt(i) != ' ' && line.charAt(i) != '\t')) {
      throw new ParseException(lineNo, name + ": expected a space and a value");
    }
    String[] rest = line.substring(i).strip().split("[ \t]+");
    if (rest.length > 2) {
      throw new ParseException(lineNo, name + ": unexpected text after the value and timestamp");
    }
    double value = number(rest[0], lineNo, name);
    if (rest.length == 2) {
      try {
        Long.parseLong(rest[1]);
      } catch (NumberFormatException e) {
        throw new ParseException(lineNo, name + ": timestamp '" + rest[1] + "' is not an integer");
      }
    }
    return new Sample(name, labels, value);
  }

  /** A sample value as Prometheus writes it ({@code +Inf}, {@code -Inf}, {@code NaN} included). */
  static double number(String s, int lineNo, String name) throws ParseException {
    switch (s) {
      case "+Inf", "Inf" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-Inf" -> {
        return Double.NEGATIVE_INFINITY;
      }
      case "NaN" -> {
        return Double.NaN;
      }
      default -> {
        // Java also reads "Infinity", hex floats and a trailing 'd'/'f': refuse what Go would.
        if (s.isEmpty() || !s.chars().allMatch(c -> "0123456789+-.eE".indexOf(c) >= 0)) {
          throw new ParseException(lineNo, name + ": value '" + clip(s) + "' is not a number");
        }
        try {
          return Double.parseDouble(s);
        } catch (NumberFormatException e) {
          throw new ParseException(lineNo, name + ": value '" + clip(s) + "' is not a number");
        }
      }
    }
  }

  private static boolean nameChar(char c, boolean first) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || c == '_'
        || c == ':'
        || (!first && c >= '0' && c <= '9');
  }

  private static int skipSpaces(String s, int i) {
    while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
      i++;
    }
    return i;
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
