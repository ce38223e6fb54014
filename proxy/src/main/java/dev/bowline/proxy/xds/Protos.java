package dev.bowline.proxy.xds;

import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.config.StringMatch;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.time.Duration;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Conversions shared by the parsers. */
final class Protos {
  private Protos() {}

  static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  static SocketAddr address(Address a, String field) throws InvalidResourceException {
    if (!a.hasSocketAddress()) {
      throw new InvalidResourceException(field, "only socket_address is supported");
    }
    var s = a.getSocketAddress();
    if (s.getProtocol() != io.envoyproxy.envoy.config.core.v3.SocketAddress.Protocol.TCP) {
      throw new InvalidResourceException(
          field + ".socket_address.protocol", "only TCP is supported");
    }
    if (s.hasNamedPort() || !s.getResolverName().isEmpty()) {
      throw new InvalidResourceException(
          field + ".socket_address", "named ports and resolvers are not supported");
    }
    String ip = s.getAddress();
    try {
      java.net.InetAddress.ofLiteral(ip);
    } catch (IllegalArgumentException e) {
      throw new InvalidResourceException(
          field + ".socket_address.address", "'" + ip + "' is not an IP address");
    }
    return new SocketAddr(ip, s.getPortValue());
  }

  /** A socket address whose host may be a DNS name (DNS clusters). */
  static dev.bowline.proxy.config.ClusterConfig.HostPort hostPort(
      Address a, int weight, String field) throws InvalidResourceException {
    if (!a.hasSocketAddress()) {
      throw new InvalidResourceException(field, "only socket_address is supported");
    }
    var s = a.getSocketAddress();
    if (s.getAddress().isEmpty()) {
      throw new InvalidResourceException(field + ".socket_address.address", "must not be empty");
    }
    if (s.getPortValue() == 0) {
      throw new InvalidResourceException(field + ".socket_address.port_value", "must not be 0");
    }
    return new dev.bowline.proxy.config.ClusterConfig.HostPort(
        s.getAddress(), s.getPortValue(), weight);
  }

  static Pattern regex(String regex, String field) throws InvalidResourceException {
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new InvalidResourceException(field, "invalid regex: " + e.getDescription());
    }
  }

  static StringMatch stringMatch(StringMatcher m, String field) throws InvalidResourceException {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> new StringMatch.Exact(m.getExact(), ic);
      case PREFIX -> new StringMatch.Prefix(m.getPrefix(), ic);
      case SUFFIX -> new StringMatch.Suffix(m.getSuffix(), ic);
      case CONTAINS -> new StringMatch.Contains(m.getContains());
      case SAFE_REGEX ->
          new StringMatch.Regex(regex(m.getSafeRegex().getRegex(), field + ".safe_regex.regex"));
      case CUSTOM, MATCHPATTERN_NOT_SET ->
          throw new InvalidResourceException(
              field, "a match pattern (exact, prefix, suffix, contains, safe_regex) is required");
    };
  }

  /** A {@code FractionalPercent} as parts per million (0.0001% granularity), capped at 100%. */
  static int perMillion(io.envoyproxy.envoy.type.v3.FractionalPercent p, String field)
      throws InvalidResourceException {
    long scale =
        switch (p.getDenominator()) {
          case HUNDRED -> 10_000;
          case TEN_THOUSAND -> 100;
          case MILLION -> 1;
          case UNRECOGNIZED ->
              throw new InvalidResourceException(field + ".denominator", "unknown denominator");
        };
    return (int) Math.min(1_000_000L, (p.getNumerator() & 0xFFFFFFFFL) * scale);
  }
}
