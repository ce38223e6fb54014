package dev.bowline.proxy.xds;

import dev.bowline.proxy.config.HashPolicy;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** A route's {@code hash_policy} → {@link HashPolicy} entries. */
final class HashPolicyParser {
  private HashPolicyParser() {}

  static List<HashPolicy> parse(List<RouteAction.HashPolicy> policies, String field)
      throws InvalidResourceException {
    List<HashPolicy> out = new ArrayList<>(policies.size());
    for (int i = 0; i < policies.size(); i++) {
      RouteAction.HashPolicy p = policies.get(i);
      String f = field + "[" + i + "]";
      boolean terminal = p.getTerminal();
      out.add(
          switch (p.getPolicySpecifierCase()) {
            case HEADER -> {
              if (p.getHeader().getHeaderName().isEmpty()) {
                throw new InvalidResourceException(f + ".header.header_name", "must not be empty");
              }
              if (p.getHeader().hasRegexRewrite()) {
                throw new InvalidResourceException(f + ".header.regex_rewrite", "not supported");
              }
              yield new HashPolicy.Header(
                  p.getHeader().getHeaderName().toLowerCase(Locale.ROOT), terminal);
            }
            case COOKIE -> {
              var c = p.getCookie();
              if (c.getName().isEmpty()) {
                throw new InvalidResourceException(f + ".cookie.name", "must not be empty");
              }
              if (c.getAttributesCount() > 0) {
                throw new InvalidResourceException(f + ".cookie.attributes", "not supported");
              }
              yield new HashPolicy.Cookie(
                  c.getName(),
                  c.hasTtl() ? Optional.of(Protos.duration(c.getTtl())) : Optional.empty(),
                  c.getPath().isEmpty() ? Optional.empty() : Optional.of(c.getPath()),
                  terminal);
            }
            case CONNECTION_PROPERTIES -> {
              if (!p.getConnectionProperties().getSourceIp()) {
                throw new InvalidResourceException(
                    f + ".connection_properties.source_ip", "must be true");
              }
              yield new HashPolicy.SourceIp(terminal);
            }
            case QUERY_PARAMETER -> {
              if (p.getQueryParameter().getName().isEmpty()) {
                throw new InvalidResourceException(
                    f + ".query_parameter.name", "must not be empty");
              }
              yield new HashPolicy.QueryParameter(p.getQueryParameter().getName(), terminal);
            }
            case FILTER_STATE ->
                throw new InvalidResourceException(f + ".filter_state", "not supported");
            case POLICYSPECIFIER_NOT_SET ->
                throw new InvalidResourceException(
                    f, "one of header, cookie, connection_properties, query_parameter is required");
          });
    }
    return out;
  }
}
