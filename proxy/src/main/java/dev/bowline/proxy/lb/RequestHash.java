package dev.bowline.proxy.lb;

import dev.bowline.proxy.config.HashPolicy;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.List;
import java.util.function.Consumer;

/**
 * A request's hash from a route's {@code hash_policy}, as Envoy's {@code HashPolicyImpl}: each
 * entry that finds its input contributes {@code xxHash64(value)}, folded into the running hash as
 * {@code rotl(hash, 1) ^ new}; a terminal entry that produced a hash ends the list.
 */
public final class RequestHash {
  /** What the hash of a request without any hash input is reported as. */
  public static final long NONE = 0;

  private RequestHash() {}

  /**
   * The request's hash, or {@code null} when no policy found its input (the balancer then picks at
   * random, as Envoy). A cookie policy with a TTL whose cookie is absent generates one from the
   * downstream connection's addresses and hands its {@code Set-Cookie} value to {@code setCookie}.
   *
   * @param remote the downstream peer as {@code ip:port}
   * @param local the downstream connection's local address as {@code ip:port}
   */
  public static @org.jspecify.annotations.Nullable Long compute(
      List<HashPolicy> policies,
      HttpHeaders headers,
      String uri,
      String remoteIp,
      String remote,
      String local,
      Consumer<String> setCookie) {
    boolean have = false;
    long hash = 0;
    for (HashPolicy p : policies) {
      String input =
          switch (p) {
            case HashPolicy.Header h -> header(headers, h.name());
            case HashPolicy.SourceIp s -> remoteIp.isEmpty() ? null : remoteIp;
            case HashPolicy.QueryParameter q -> query(uri, q.name());
            case HashPolicy.Cookie c -> {
              String v = cookie(headers, c.name());
              if (v == null && c.ttl().isPresent()) {
                v = generatedCookie(remote, local);
                setCookie.accept(setCookieValue(c, v));
              }
              yield v;
            }
          };
      if (input != null) {
        long h = XxHash64.hash(input, 0);
        hash = have ? Long.rotateLeft(hash, 1) ^ h : h;
        have = true;
      }
      if (p.terminal() && have) {
        break;
      }
    }
    return have ? hash : null;
  }

  private static @org.jspecify.annotations.Nullable String header(HttpHeaders h, String name) {
    List<String> all = h.getAll(name);
    if (all.isEmpty()) {
      return null;
    }
    return all.size() == 1 ? all.getFirst() : String.join(",", all.stream().sorted().toList());
  }

  private static @org.jspecify.annotations.Nullable String query(String uri, String name) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return null;
    }
    List<String> v;
    try {
      v = new QueryStringDecoder(uri).parameters().get(name);
    } catch (IllegalArgumentException malformed) {
      return null; // a malformed escape (k%v): no parameter to hash
    }
    return v == null || v.isEmpty() ? null : v.getFirst();
  }

  private static @org.jspecify.annotations.Nullable String cookie(HttpHeaders h, String name) {
    for (String header : h.getAll(HttpHeaderNames.COOKIE)) {
      for (var c : ServerCookieDecoder.LAX.decodeAll(header)) {
        if (c.name().equals(name)) {
          return c.value();
        }
      }
    }
    return null;
  }

  /**
   * Envoy's generated cookie value: the hex xxHash64 of the downstream remote and local addresses,
   * so streams of one connection racing on the same path get the same cookie.
   */
  static String generatedCookie(String remote, String local) {
    return String.format("%016x", XxHash64.hash(remote + local, 0));
  }

  /** The {@code Set-Cookie} value Envoy sends for a generated hash cookie. */
  static String setCookieValue(HashPolicy.Cookie c, String value) {
    StringBuilder sb = new StringBuilder();
    sb.append(c.name()).append("=\"").append(value).append('"');
    long ttl = c.ttl().orElseThrow().toSeconds();
    if (ttl > 0) {
      sb.append("; Max-Age=").append(ttl);
    }
    c.path().filter(p -> !p.isEmpty()).ifPresent(p -> sb.append("; Path=").append(p));
    sb.append("; HttpOnly");
    return sb.toString();
  }
}
