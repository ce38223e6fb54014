package dev.bowline.proxy.config;

import java.util.List;
import java.util.Set;

/**
 * A route's {@code internal_redirect_policy}: the router follows an upstream's redirect itself
 * (Envoy's {@code setupRedirect}), matching the route table again with the Location's authority and
 * path, instead of passing the redirect to the client.
 *
 * @param maxRedirects {@code max_internal_redirects} (Envoy's default 1)
 * @param codes bit {@code c - 300} set for each of {@code redirect_response_codes} (301, 302, 303,
 *     307, 308; Envoy ignores other codes; 302 alone when none is given)
 * @param allowCrossScheme {@code allow_cross_scheme_redirect}: an http request may follow an https
 *     Location and the reverse
 * @param responseHeadersToCopy {@code response_headers_to_copy}, lower-cased: the redirect's values
 *     replace the request's (a header the redirect lacks is removed from the request)
 * @param previousRoutes the {@code previous_routes} predicate: a route already redirected to is not
 *     followed again
 * @param allowListed the {@code allow_listed_routes} predicate's names (null: no such predicate)
 * @param safeCrossScheme the {@code safe_cross_scheme} predicate: an https request never follows an
 *     http Location
 */
public record InternalRedirect(
    int maxRedirects,
    int codes,
    boolean allowCrossScheme,
    List<String> responseHeadersToCopy,
    boolean previousRoutes,
    @org.jspecify.annotations.Nullable Set<String> allowListed,
    boolean safeCrossScheme) {
  public InternalRedirect {
    responseHeadersToCopy = List.copyOf(responseHeadersToCopy);
    allowListed = allowListed == null ? null : Set.copyOf(allowListed);
  }

  /** Whether a response with {@code status} is one this policy follows. */
  public boolean follows(int status) {
    int bit = status - 300;
    return bit >= 0 && bit < 31 && (codes & (1 << bit)) != 0;
  }
}
