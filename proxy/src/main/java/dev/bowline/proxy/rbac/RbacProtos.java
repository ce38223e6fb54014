package dev.bowline.proxy.rbac;

import dev.bowline.proxy.config.CidrRange;
import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.StringMatch;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code envoy.config.rbac.v3.RBAC} to an {@link RbacEngine}: every matcher compiled once. Errors
 * are {@link IllegalArgumentException}s naming the field, relative to the given one.
 */
public final class RbacProtos {
  private RbacProtos() {}

  /** The engine of {@code rbac} (at {@code field}). */
  public static RbacEngine engine(RBAC rbac, String field) {
    RbacEngine.Action action =
        switch (rbac.getAction()) {
          case ALLOW -> RbacEngine.Action.ALLOW;
          case DENY -> RbacEngine.Action.DENY;
          case LOG -> RbacEngine.Action.LOG;
          case UNRECOGNIZED -> throw new IllegalArgumentException(field + ".action: unknown");
        };
    if (rbac.hasAuditLoggingOptions()) {
      throw new IllegalArgumentException(field + ".audit_logging_options: not supported");
    }
    List<RbacEngine.Policy> policies = new ArrayList<>();
    for (Map.Entry<String, Policy> e : rbac.getPoliciesMap().entrySet()) {
      String at = field + ".policies[" + e.getKey() + "]";
      Policy p = e.getValue();
      if (p.hasCondition() || p.hasCheckedCondition()) {
        throw new IllegalArgumentException(at + ".condition: CEL conditions are not supported");
      }
      if (p.getPermissionsCount() == 0) {
        throw new IllegalArgumentException(at + ".permissions: at least one is required");
      }
      if (p.getPrincipalsCount() == 0) {
        throw new IllegalArgumentException(at + ".principals: at least one is required");
      }
      List<Matcher> perms = new ArrayList<>();
      for (int i = 0; i < p.getPermissionsCount(); i++) {
        perms.add(permission(p.getPermissions(i), at + ".permissions[" + i + "]"));
      }
      List<Matcher> ids = new ArrayList<>();
      for (int i = 0; i < p.getPrincipalsCount(); i++) {
        ids.add(principal(p.getPrincipals(i), at + ".principals[" + i + "]"));
      }
      policies.add(new RbacEngine.Policy(e.getKey(), or(perms), or(ids)));
    }
    return new RbacEngine(action, policies);
  }

  private static Matcher or(List<Matcher> ms) {
    return ms.size() == 1 ? ms.getFirst() : new Matcher.Or(ms);
  }

  static Matcher permission(Permission p, String at) {
    return switch (p.getRuleCase()) {
      case AND_RULES ->
          new Matcher.And(permissions(p.getAndRules().getRulesList(), at + ".and_rules"));
      case OR_RULES -> new Matcher.Or(permissions(p.getOrRules().getRulesList(), at + ".or_rules"));
      case ANY -> {
        if (!p.getAny()) {
          throw new IllegalArgumentException(at + ".any: must be true");
        }
        yield new Matcher.Any();
      }
      case HEADER -> new Matcher.Header(header(p.getHeader(), at + ".header"));
      case URL_PATH -> new Matcher.UrlPath(path(p.getUrlPath(), at + ".url_path"));
      case DESTINATION_IP ->
          new Matcher.Ip(
              Matcher.IpSource.DESTINATION, cidr(p.getDestinationIp(), at + ".destination_ip"));
      case DESTINATION_PORT -> {
        int port = p.getDestinationPort();
        if (port > 65535) {
          throw new IllegalArgumentException(at + ".destination_port: must be <= 65535");
        }
        yield new Matcher.DestinationPort(port, port + 1);
      }
      case DESTINATION_PORT_RANGE -> {
        var r = p.getDestinationPortRange();
        if (r.getStart() > r.getEnd()) {
          throw new IllegalArgumentException(at + ".destination_port_range: start > end");
        }
        yield new Matcher.DestinationPort(r.getStart(), r.getEnd());
      }
      case METADATA -> metadata(p.getMetadata(), at + ".metadata");
      case NOT_RULE -> new Matcher.Not(permission(p.getNotRule(), at + ".not_rule"));
      case REQUESTED_SERVER_NAME ->
          new Matcher.RequestedServerName(
              string(p.getRequestedServerName(), at + ".requested_server_name"));
      case MATCHER, URI_TEMPLATE, SOURCED_METADATA ->
          throw new IllegalArgumentException(
              at + "." + p.getRuleCase().name().toLowerCase(Locale.ROOT) + ": not supported");
      case RULE_NOT_SET -> throw new IllegalArgumentException(at + ": a rule is required");
    };
  }

  private static List<Matcher> permissions(List<Permission> ps, String at) {
    List<Matcher> out = new ArrayList<>(ps.size());
    for (int i = 0; i < ps.size(); i++) {
      out.add(permission(ps.get(i), at + ".rules[" + i + "]"));
    }
    return out;
  }

  @SuppressWarnings("deprecation") // source_ip: deprecated but still what older configs send
  static Matcher principal(Principal p, String at) {
    return switch (p.getIdentifierCase()) {
      case AND_IDS -> new Matcher.And(principals(p.getAndIds().getIdsList(), at + ".and_ids"));
      case OR_IDS -> new Matcher.Or(principals(p.getOrIds().getIdsList(), at + ".or_ids"));
      case ANY -> {
        if (!p.getAny()) {
          throw new IllegalArgumentException(at + ".any: must be true");
        }
        yield new Matcher.Any();
      }
      case AUTHENTICATED ->
          new Matcher.Authenticated(
              p.getAuthenticated().hasPrincipalName()
                  ? string(
                      p.getAuthenticated().getPrincipalName(), at + ".authenticated.principal_name")
                  : null);
      case SOURCE_IP ->
          new Matcher.Ip(Matcher.IpSource.SOURCE, cidr(p.getSourceIp(), at + ".source_ip"));
      case DIRECT_REMOTE_IP ->
          new Matcher.Ip(
              Matcher.IpSource.DIRECT_REMOTE,
              cidr(p.getDirectRemoteIp(), at + ".direct_remote_ip"));
      case REMOTE_IP ->
          new Matcher.Ip(Matcher.IpSource.REMOTE, cidr(p.getRemoteIp(), at + ".remote_ip"));
      case HEADER -> new Matcher.Header(header(p.getHeader(), at + ".header"));
      case URL_PATH -> new Matcher.UrlPath(path(p.getUrlPath(), at + ".url_path"));
      case METADATA -> metadata(p.getMetadata(), at + ".metadata");
      case NOT_ID -> new Matcher.Not(principal(p.getNotId(), at + ".not_id"));
      case FILTER_STATE, CUSTOM, SOURCED_METADATA ->
          throw new IllegalArgumentException(
              at + "." + p.getIdentifierCase().name().toLowerCase(Locale.ROOT) + ": not supported");
      case IDENTIFIER_NOT_SET ->
          throw new IllegalArgumentException(at + ": an identifier is required");
    };
  }

  private static List<Matcher> principals(List<Principal> ps, String at) {
    List<Matcher> out = new ArrayList<>(ps.size());
    for (int i = 0; i < ps.size(); i++) {
      out.add(principal(ps.get(i), at + ".ids[" + i + "]"));
    }
    return out;
  }

  private static CidrRange cidr(io.envoyproxy.envoy.config.core.v3.CidrRange r, String at) {
    try {
      return CidrRange.of(r.getAddressPrefix(), r.hasPrefixLen() ? r.getPrefixLen().getValue() : 0);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(at + ": " + e.getMessage(), e);
    }
  }

  private static StringMatch path(io.envoyproxy.envoy.type.matcher.v3.PathMatcher p, String at) {
    if (!p.hasPath()) {
      throw new IllegalArgumentException(at + ".path: is required");
    }
    return string(p.getPath(), at + ".path");
  }

  /** Envoy's StringMatcher. */
  public static StringMatch string(StringMatcher m, String at) {
    boolean ic = m.getIgnoreCase();
    return switch (m.getMatchPatternCase()) {
      case EXACT -> new StringMatch.Exact(m.getExact(), ic);
      case PREFIX -> {
        if (m.getPrefix().isEmpty()) {
          throw new IllegalArgumentException(at + ".prefix: must not be empty");
        }
        yield new StringMatch.Prefix(m.getPrefix(), ic);
      }
      case SUFFIX -> {
        if (m.getSuffix().isEmpty()) {
          throw new IllegalArgumentException(at + ".suffix: must not be empty");
        }
        yield new StringMatch.Suffix(m.getSuffix(), ic);
      }
      case CONTAINS ->
          ic
              ? new StringMatch.Regex(
                  Pattern.compile(
                      ".*" + Pattern.quote(m.getContains()) + ".*",
                      Pattern.CASE_INSENSITIVE | Pattern.DOTALL))
              : new StringMatch.Contains(m.getContains());
      case SAFE_REGEX ->
          new StringMatch.Regex(regex(m.getSafeRegex().getRegex(), at + ".safe_regex.regex"));
      case CUSTOM -> throw new IllegalArgumentException(at + ".custom: not supported");
      case MATCHPATTERN_NOT_SET ->
          throw new IllegalArgumentException(at + ": a match pattern is required");
    };
  }

  private static Pattern regex(String re, String at) {
    try {
      return Pattern.compile(re, Pattern.DOTALL);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(at + ": invalid regex: " + e.getDescription(), e);
    }
  }

  /** Envoy's HeaderMatcher; the header name is lower-cased. */
  @SuppressWarnings("deprecation") // the old exact/prefix/suffix/contains/safe_regex fields
  static HeaderMatch header(HeaderMatcher h, String at) {
    String name = h.getName().toLowerCase(Locale.ROOT);
    if (name.isEmpty()) {
      throw new IllegalArgumentException(at + ".name: must not be empty");
    }
    Optional<StringMatch> value;
    boolean present = true;
    switch (h.getHeaderMatchSpecifierCase()) {
      case EXACT_MATCH -> value = Optional.of(new StringMatch.Exact(h.getExactMatch(), false));
      case PREFIX_MATCH -> value = Optional.of(new StringMatch.Prefix(h.getPrefixMatch(), false));
      case SUFFIX_MATCH -> value = Optional.of(new StringMatch.Suffix(h.getSuffixMatch(), false));
      case CONTAINS_MATCH -> value = Optional.of(new StringMatch.Contains(h.getContainsMatch()));
      case SAFE_REGEX_MATCH ->
          value =
              Optional.of(
                  new StringMatch.Regex(
                      regex(h.getSafeRegexMatch().getRegex(), at + ".safe_regex_match.regex")));
      case STRING_MATCH -> value = Optional.of(string(h.getStringMatch(), at + ".string_match"));
      case PRESENT_MATCH -> {
        value = Optional.empty();
        present = h.getPresentMatch();
      }
      case HEADERMATCHSPECIFIER_NOT_SET -> value = Optional.empty();
      case RANGE_MATCH -> throw new IllegalArgumentException(at + ".range_match: not supported");
      default -> throw new IllegalArgumentException(at + ": unknown header match");
    }
    return new HeaderMatch(name, value, present, h.getInvertMatch());
  }

  /** Envoy's MetadataMatcher (over dynamic metadata). */
  static Matcher metadata(MetadataMatcher m, String at) {
    if (m.getFilter().isEmpty()) {
      throw new IllegalArgumentException(at + ".filter: must not be empty");
    }
    if (m.getPathCount() == 0) {
      throw new IllegalArgumentException(at + ".path: at least one key is required");
    }
    List<String> path = new ArrayList<>();
    for (int i = 0; i < m.getPathCount(); i++) {
      if (!m.getPath(i).hasKey() || m.getPath(i).getKey().isEmpty()) {
        throw new IllegalArgumentException(at + ".path[" + i + "].key: must not be empty");
      }
      path.add(m.getPath(i).getKey());
    }
    if (!m.hasValue()) {
      throw new IllegalArgumentException(at + ".value: is required");
    }
    return new Matcher.Metadata(
        m.getFilter(), path, value(m.getValue(), at + ".value"), m.getInvert());
  }

  public static Matcher.ValueMatch value(ValueMatcher v, String at) {
    return switch (v.getMatchPatternCase()) {
      case NULL_MATCH -> new Matcher.ValueMatch.Null();
      case DOUBLE_MATCH -> {
        var d = v.getDoubleMatch();
        yield switch (d.getMatchPatternCase()) {
          case EXACT -> new Matcher.ValueMatch.Double(d.getExact(), d.getExact(), true);
          case RANGE ->
              new Matcher.ValueMatch.Double(d.getRange().getStart(), d.getRange().getEnd(), false);
          case MATCHPATTERN_NOT_SET ->
              throw new IllegalArgumentException(at + ".double_match: a match pattern is required");
        };
      }
      case STRING_MATCH ->
          new Matcher.ValueMatch.Str(string(v.getStringMatch(), at + ".string_match"));
      case BOOL_MATCH -> new Matcher.ValueMatch.Bool(v.getBoolMatch());
      case PRESENT_MATCH -> new Matcher.ValueMatch.Present(v.getPresentMatch());
      case LIST_MATCH -> {
        if (!v.getListMatch().hasOneOf()) {
          throw new IllegalArgumentException(at + ".list_match.one_of: is required");
        }
        yield new Matcher.ValueMatch.OneOf(
            value(v.getListMatch().getOneOf(), at + ".list_match.one_of"));
      }
      case OR_MATCH -> {
        List<Matcher.ValueMatch> any = new ArrayList<>();
        var list = v.getOrMatch().getValueMatchersList();
        for (int i = 0; i < list.size(); i++) {
          any.add(value(list.get(i), at + ".or_match.value_matchers[" + i + "]"));
        }
        yield new Matcher.ValueMatch.AnyOf(any);
      }
      case MATCHPATTERN_NOT_SET ->
          throw new IllegalArgumentException(at + ": a match pattern is required");
    };
  }
}
