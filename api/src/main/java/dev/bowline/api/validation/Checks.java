package dev.bowline.api.validation;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Checks shared by the kinds' validators. Each reports into a {@link Report} and goes on. */
final class Checks {
  private Checks() {}

  private static final java.util.regex.Pattern DNS1123_LABEL =
      java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final java.util.regex.Pattern HEADER_NAME =
      java.util.regex.Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
  private static final java.util.regex.Pattern LABEL_NAME =
      java.util.regex.Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)");
  private static final java.util.regex.Pattern LABEL_VALUE =
      java.util.regex.Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  private static final Set<String> PROTOCOLS =
      Set.of(
          "HTTP",
          "HTTPS",
          "GRPC",
          "GRPC-WEB",
          "HTTP2",
          "MONGO",
          "MYSQL",
          "REDIS",
          "TCP",
          "TLS",
          "UDP",
          "HTTP_PROXY",
          "HBONE");

  static boolean isDns1123Label(String s) {
    return s.length() <= 63 && DNS1123_LABEL.matcher(s).matches();
  }

  /** A DNS name, possibly starting with {@code *.} or being {@code *}: Istio's wildcard domain. */
  static @Nullable String wildcardDomainProblem(String host) {
    if (host.isEmpty()) {
      return "host must not be empty";
    }
    if (host.length() > 255) {
      return "domain name \"" + host + "\" too long (max 255)";
    }
    String rest = host;
    if (host.equals("*")) {
      return null;
    }
    if (host.startsWith("*.")) {
      rest = host.substring(2);
    }
    for (String label : rest.split("\\.", -1)) {
      if (!isDns1123Label(label.toLowerCase(java.util.Locale.ROOT))) {
        return "domain name \"" + host + "\" invalid (label \"" + label + "\" invalid)";
      }
    }
    return null;
  }

  static void wildcardDomain(Report r, String path, String host) {
    String problem = wildcardDomainProblem(host);
    if (problem != null) {
      r.error(path, problem);
    }
  }

  static void port(Report r, String path, @Nullable Integer port) {
    if (port != null && (port < 1 || port > 65535)) {
      r.error(path, "port number " + port + " must be in the range 1..65535");
    }
  }

  static void protocol(Report r, String path, @Nullable String protocol) {
    if (protocol != null && !PROTOCOLS.contains(protocol.toUpperCase(java.util.Locale.ROOT))) {
      r.error(path, "unrecognized protocol \"" + protocol + "\"");
    }
  }

  static void percent(Report r, String path, @Nullable Double value) {
    if (value != null && (value < 0 || value > 100 || value.isNaN())) {
      r.error(path, "percentage " + value + " is not in the range 0..100");
    }
  }

  static void percent(Report r, String path, @Nullable Integer value) {
    if (value != null && (value < 0 || value > 100)) {
      r.error(path, "percentage " + value + " is not in the range 0..100");
    }
  }

  static void nonNegative(Report r, String path, @Nullable Number value) {
    if (value != null && value.longValue() < 0) {
      r.error(path, "must not be negative");
    }
  }

  /** A duration Istio accepts: at least 1 ms. */
  static void duration(Report r, String path, @Nullable Duration d) {
    if (d == null) {
      return;
    }
    if (d.isNegative()) {
      r.error(path, "duration must not be negative");
    } else if (d.compareTo(Duration.ofMillis(1)) < 0) {
      r.error(path, "duration must be at least 1ms");
    } else if (d.getNano() % 1_000_000 != 0) {
      r.error(path, "only durations to ms precision are supported");
    }
  }

  /** An RE2 regular expression, as Envoy compiles it. */
  static void regex(Report r, String path, @Nullable String regex) {
    if (regex == null) {
      return;
    }
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      r.error(path, "\"" + regex + "\" is not a valid RE2 regex: " + e.getDescription());
    }
  }

  static void headerName(Report r, String path, String name) {
    if (name.isEmpty()) {
      r.error(path, "header name must not be empty");
    } else if (name.startsWith(":")) {
      r.error(path, "pseudo-header \"" + name + "\" cannot be modified");
    } else if (!HEADER_NAME.matcher(name).matches()) {
      r.error(path, "invalid header name \"" + name + "\"");
    }
  }

  static void labels(Report r, String path, Map<String, String> labels) {
    labels.forEach(
        (k, v) -> {
          String name = k.contains("/") ? k.substring(k.indexOf('/') + 1) : k;
          if (name.isEmpty() || name.length() > 63 || !LABEL_NAME.matcher(name).matches()) {
            r.error(path + "." + k, "invalid label name \"" + k + "\"");
          }
          if (v.length() > 63 || !LABEL_VALUE.matcher(v).matches()) {
            r.error(path + "." + k, "invalid label value \"" + v + "\"");
          }
        });
  }

  static boolean isIp(String s) {
    if (s.isEmpty()
        || !(s.contains(":") || s.chars().allMatch(c -> c == '.' || Character.isDigit(c)))) {
      return false;
    }
    if (!s.contains(":") && s.split("\\.", -1).length != 4) {
      return false;
    }
    try {
      InetAddress.ofLiteral(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  static boolean isCidr(String s) {
    int slash = s.indexOf('/');
    if (slash < 0) {
      return isIp(s);
    }
    String ip = s.substring(0, slash);
    if (!isIp(ip)) {
      return false;
    }
    try {
      int bits = Integer.parseInt(s.substring(slash + 1));
      return bits >= 0 && bits <= (ip.contains(":") ? 128 : 32);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  static void ipOrCidr(Report r, String path, String s) {
    if (!isCidr(s)) {
      r.error(path, "\"" + s + "\" is not a valid IP address or CIDR range");
    }
  }

  /** exportTo: {@code .}, {@code *}, {@code ~} (alone) or namespace names, no duplicates. */
  static void exportTo(Report r, String path, List<String> exportTo) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < exportTo.size(); i++) {
      String ns = exportTo.get(i);
      String at = path + "[" + i + "]";
      if (!seen.add(ns)) {
        r.error(at, "duplicate entry \"" + ns + "\"");
      } else if (ns.equals("~") && exportTo.size() > 1) {
        r.error(at, "\"~\" (visible nowhere) must be the only entry");
      } else if (!ns.equals(".") && !ns.equals("*") && !ns.equals("~") && !isDns1123Label(ns)) {
        r.error(at, "\"" + ns + "\" is not a valid namespace, \".\", \"*\" or \"~\"");
      }
    }
  }

  static void nonEmpty(Report r, String path, @Nullable String value, String what) {
    if (value == null || value.isEmpty()) {
      r.error(path, what + " is required");
    }
  }
}
