package dev.bowline.proxy.tls;

import dev.bowline.proxy.config.StringMatch;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/**
 * One entry of {@code match_typed_subject_alt_names} (or of the older untyped {@code
 * match_subject_alt_names}, type {@link Type#ANY}): a peer certificate passes when one of its
 * subjectAltNames of the type matches.
 */
public record SanMatcher(Type type, StringMatch matcher) {
  /** The subjectAltName types Envoy matches ({@code SubjectAltNameMatcher.SanType}). */
  public enum Type {
    EMAIL(1),
    DNS(2),
    URI(6),
    IP_ADDRESS(7),
    /** Any of DNS, URI, email, IP (the untyped, deprecated {@code match_subject_alt_names}). */
    ANY(-1);

    private final int x509Tag;

    Type(int x509Tag) {
      this.x509Tag = x509Tag;
    }
  }

  /** Whether one of {@code cert}'s subjectAltNames of this type matches. */
  public boolean matches(X509Certificate cert) {
    for (String san : sans(cert, type)) {
      if (type == Type.DNS ? dnsMatches(san) : matcher.matches(san)) {
        return true;
      }
    }
    return false;
  }

  /** Envoy: a DNS SAN {@code *.example.com} matches an exact matcher for one label under it. */
  private boolean dnsMatches(String san) {
    if (matcher.matches(san)) {
      return true;
    }
    if (san.startsWith("*.") && matcher instanceof StringMatch.Exact e) {
      String v = e.value();
      int dot = v.indexOf('.');
      return dot > 0 && v.substring(dot).equalsIgnoreCase(san.substring(1));
    }
    return false;
  }

  /** The subjectAltNames of {@code cert} of {@code type}, as strings. */
  public static List<String> sans(X509Certificate cert, Type type) {
    Collection<List<?>> all;
    try {
      all = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return List.of();
    }
    if (all == null) {
      return List.of();
    }
    java.util.ArrayList<String> out = new java.util.ArrayList<>();
    for (List<?> entry : all) {
      int tag = (Integer) entry.get(0);
      boolean wanted =
          type == Type.ANY ? tag == 1 || tag == 2 || tag == 6 || tag == 7 : tag == type.x509Tag;
      if (wanted && entry.get(1) instanceof String s) {
        out.add(s);
      }
    }
    return out;
  }
}
