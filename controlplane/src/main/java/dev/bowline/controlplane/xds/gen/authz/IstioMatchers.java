package dev.bowline.controlplane.xds.gen.authz;

import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ListMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.OrMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Istio's value syntax to Envoy matchers ({@code security/authz/matcher}): {@code *} is any
 * non-empty value, {@code *x} a suffix, {@code x*} a prefix, anything else exact.
 */
final class IstioMatchers {
  private IstioMatchers() {}

  static StringMatcher regex(String re) {
    return StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(re)).build();
  }

  /** Istio's {@code StringMatcher(v)}. */
  static StringMatcher string(String v) {
    return string(v, "");
  }

  /** Istio's {@code StringMatcherWithPrefix(v, prefix)} (source principals: {@code spiffe://}). */
  static StringMatcher string(String v, String prefix) {
    if (v.equals("*")) {
      return regex(".+");
    }
    if (v.startsWith("*")) {
      return prefix.isEmpty()
          ? StringMatcher.newBuilder().setSuffix(v.substring(1)).build()
          : regex(Pattern.quote(prefix) + ".*" + Pattern.quote(v.substring(1)));
    }
    if (v.endsWith("*")) {
      return StringMatcher.newBuilder().setPrefix(prefix + v.substring(0, v.length() - 1)).build();
    }
    return StringMatcher.newBuilder().setExact(prefix + v).build();
  }

  /** Istio's {@code HeaderMatcher(k, v)}: {@code *} is presence. */
  static HeaderMatcher header(String name, String v) {
    HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name);
    if (v.equals("*")) {
      return h.setPresentMatch(true).build();
    }
    return h.setStringMatch(string(v)).build();
  }

  /** Istio's {@code HostMatcher}: {@code :authority}, case-insensitive, {@code *} is presence. */
  static HeaderMatcher host(String v) {
    HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(":authority");
    if (v.equals("*")) {
      return h.setPresentMatch(true).build();
    }
    StringMatcher.Builder s = StringMatcher.newBuilder().setIgnoreCase(true);
    if (v.startsWith("*")) {
      s.setSuffix(v.substring(1));
    } else if (v.endsWith("*")) {
      s.setPrefix(v.substring(0, v.length() - 1));
    } else {
      s.setExact(v);
    }
    return h.setStringMatch(s).build();
  }

  /**
   * Istio's path matcher: the string rules on the path without query; a path template ({@code {*}}
   * one segment, {@code {**}} the rest) becomes its regex.
   */
  static PathMatcher path(String v) {
    if (v.contains("{")) {
      List<String> parts = new java.util.ArrayList<>();
      for (String part : v.split("/", -1)) {
        parts.add(
            switch (part) {
              case "{*}" -> "[^/]+";
              case "{**}" -> ".+";
              default -> part.isEmpty() ? "" : Pattern.quote(part);
            });
      }
      return PathMatcher.newBuilder().setPath(regex(String.join("/", parts))).build();
    }
    return PathMatcher.newBuilder().setPath(string(v)).build();
  }

  /** An IP or CIDR ({@code 10.0.0.0/8}, {@code 10.1.2.3}) as Envoy's CidrRange. */
  static CidrRange cidr(String v) {
    int slash = v.indexOf('/');
    String ip = slash < 0 ? v : v.substring(0, slash);
    int len = slash < 0 ? (ip.contains(":") ? 128 : 32) : Integer.parseInt(v.substring(slash + 1));
    return CidrRange.newBuilder()
        .setAddressPrefix(ip)
        .setPrefixLen(com.google.protobuf.UInt32Value.of(len))
        .build();
  }

  /** Dynamic metadata of {@code filter} at {@code path}, tested by {@code value}. */
  static MetadataMatcher metadata(String filter, List<String> path, ValueMatcher value) {
    MetadataMatcher.Builder m = MetadataMatcher.newBuilder().setFilter(filter).setValue(value);
    for (String k : path) {
      m.addPath(MetadataMatcher.PathSegment.newBuilder().setKey(k));
    }
    return m.build();
  }

  static ValueMatcher stringValue(StringMatcher s) {
    return ValueMatcher.newBuilder().setStringMatch(s).build();
  }

  static ValueMatcher listOneOf(StringMatcher s) {
    return ValueMatcher.newBuilder()
        .setListMatch(ListMatcher.newBuilder().setOneOf(stringValue(s)))
        .build();
  }

  /** A string, or a list with such an element (audiences and presenter may come either way). */
  static ValueMatcher stringOrListOneOf(StringMatcher s) {
    return ValueMatcher.newBuilder()
        .setOrMatch(
            OrMatcher.newBuilder().addValueMatchers(stringValue(s)).addValueMatchers(listOneOf(s)))
        .build();
  }
}
