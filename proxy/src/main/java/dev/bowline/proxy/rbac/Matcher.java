package dev.bowline.proxy.rbac;

import com.google.protobuf.Value;
import dev.bowline.proxy.config.CidrRange;
import dev.bowline.proxy.config.HeaderMatch;
import dev.bowline.proxy.config.StringMatch;
import dev.bowline.proxy.tls.TlsPeer;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * One compiled RBAC permission or principal (Envoy's {@code Permission} and {@code Principal} share
 * their matchers). Built once from the proto; {@link #matches} only reads.
 */
public sealed interface Matcher {
  /** Whether {@code in} matches. */
  boolean matches(RbacInput in);

  /** {@code any: true}. */
  record Any() implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      return true;
    }
  }

  /** {@code and_rules} / {@code and_ids}: every one matches (none: true). */
  record And(List<Matcher> all) implements Matcher {
    public And {
      all = List.copyOf(all);
    }

    @Override
    public boolean matches(RbacInput in) {
      for (Matcher m : all) {
        if (!m.matches(in)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code or_rules} / {@code or_ids}: one of them matches (none: false). */
  record Or(List<Matcher> any) implements Matcher {
    public Or {
      any = List.copyOf(any);
    }

    @Override
    public boolean matches(RbacInput in) {
      for (Matcher m : any) {
        if (m.matches(in)) {
          return true;
        }
      }
      return false;
    }
  }

  /** {@code not_rule} / {@code not_id}. */
  record Not(Matcher inner) implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      return !inner.matches(in);
    }
  }

  /**
   * {@code header}: Envoy's HeaderMatcher over the request head (pseudo-headers included); a
   * network filter has an empty head, as Envoy's.
   */
  record Header(HeaderMatch match) implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      return match.matches(in.header(match.name()));
    }
  }

  /** {@code url_path}: the path without query; never matches on a network filter. */
  record UrlPath(StringMatch path) implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      String p = in.urlPath();
      return p != null && path.matches(p);
    }
  }

  /** Which address an {@link Ip} matcher reads. */
  enum IpSource {
    DESTINATION,
    DIRECT_REMOTE,
    REMOTE,
    SOURCE
  }

  /** {@code destination_ip}, {@code direct_remote_ip}, {@code remote_ip}, {@code source_ip}. */
  record Ip(IpSource source, CidrRange range) implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      return range.contains(
          switch (source) {
            case DESTINATION -> in.destinationIp();
            case DIRECT_REMOTE -> in.directRemoteIp();
            case REMOTE -> in.remoteIp();
            case SOURCE -> in.sourceIp();
          });
    }
  }

  /** {@code destination_port} (a range of one) and {@code destination_port_range} [start, end). */
  record DestinationPort(int start, int endExclusive) implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      int p = in.destinationPort();
      return p >= start && p < endExclusive;
    }
  }

  /** {@code requested_server_name}: the SNI (empty when none). */
  record RequestedServerName(StringMatch name) implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      return name.matches(in.requestedServerName());
    }
  }

  /**
   * {@code authenticated}: a TLS connection whose peer certificate's URI SANs, else DNS SANs, else
   * subject (RFC 2253) match {@code principalName}; with no name, any TLS connection.
   */
  record Authenticated(@Nullable StringMatch principalName) implements Matcher {
    @Override
    public boolean matches(RbacInput in) {
      TlsPeer peer = in.tlsPeer();
      if (peer == null) {
        return false;
      }
      StringMatch name = principalName;
      if (name == null) {
        return true;
      }
      for (String uri : peer.uriSans()) {
        if (name.matches(uri)) {
          return true;
        }
      }
      if (peer.chain().isEmpty()) {
        return name.matches("");
      }
      X509Certificate cert = peer.chain().getFirst();
      for (String dns : dnsSans(cert)) {
        if (name.matches(dns)) {
          return true;
        }
      }
      return name.matches(cert.getSubjectX500Principal().getName(X500Principal.RFC2253));
    }

    private static List<String> dnsSans(X509Certificate cert) {
      try {
        var all = cert.getSubjectAlternativeNames();
        if (all == null) {
          return List.of();
        }
        return all.stream()
            .filter(l -> l.size() == 2 && Integer.valueOf(2).equals(l.get(0)))
            .map(l -> String.valueOf(l.get(1)))
            .toList();
      } catch (CertificateParsingException e) {
        return List.of();
      }
    }
  }

  /**
   * {@code metadata}: Envoy's MetadataMatcher over the dynamic metadata of {@code filter}, the
   * value at {@code path} (keys into nested structs) tested by {@code value}, then {@code invert}.
   */
  record Metadata(String filter, List<String> path, ValueMatch value, boolean invert)
      implements Matcher {
    public Metadata {
      path = List.copyOf(path);
    }

    @Override
    public boolean matches(RbacInput in) {
      return value.matches(lookup(in)) != invert;
    }

    private @Nullable Value lookup(RbacInput in) {
      var struct = in.dynamicMetadata(filter);
      if (struct == null) {
        return null;
      }
      Value v = null;
      for (String key : path) {
        if (struct == null) {
          return null;
        }
        v = struct.getFieldsMap().get(key);
        if (v == null) {
          return null;
        }
        struct = v.hasStructValue() ? v.getStructValue() : null;
      }
      return v;
    }
  }

  /**
   * Envoy's {@code ValueMatcher}; a missing value (null) matches nothing but {@code NotPresent}.
   */
  sealed interface ValueMatch {
    boolean matches(@Nullable Value v);

    /** {@code null_match}. */
    record Null() implements ValueMatch {
      @Override
      public boolean matches(@Nullable Value v) {
        return v != null && v.hasNullValue();
      }
    }

    /** {@code present_match}: whether a value is there at all. */
    record Present(boolean present) implements ValueMatch {
      @Override
      public boolean matches(@Nullable Value v) {
        return (v != null && v.getKindCase() != Value.KindCase.KIND_NOT_SET) == present;
      }
    }

    /** {@code string_match}. */
    record Str(StringMatch match) implements ValueMatch {
      @Override
      public boolean matches(@Nullable Value v) {
        return v != null && v.hasStringValue() && match.matches(v.getStringValue());
      }
    }

    /** {@code bool_match}. */
    record Bool(boolean value) implements ValueMatch {
      @Override
      public boolean matches(@Nullable Value v) {
        return v != null && v.hasBoolValue() && v.getBoolValue() == value;
      }
    }

    /** {@code double_match}: exact, or in [start, end). */
    record Double(double start, double endExclusive, boolean exact) implements ValueMatch {
      @Override
      public boolean matches(@Nullable Value v) {
        if (v == null || !v.hasNumberValue()) {
          return false;
        }
        double d = v.getNumberValue();
        return exact ? d == start : d >= start && d < endExclusive;
      }
    }

    /** {@code list_match.one_of}: a list with an element that matches. */
    record OneOf(ValueMatch element) implements ValueMatch {
      @Override
      public boolean matches(@Nullable Value v) {
        if (v == null || !v.hasListValue()) {
          return false;
        }
        for (Value e : v.getListValue().getValuesList()) {
          if (element.matches(e)) {
            return true;
          }
        }
        return false;
      }
    }

    /** {@code or_match}: one of several. */
    record AnyOf(List<ValueMatch> any) implements ValueMatch {
      public AnyOf {
        any = List.copyOf(any);
      }

      @Override
      public boolean matches(@Nullable Value v) {
        for (ValueMatch m : any) {
          if (m.matches(v)) {
            return true;
          }
        }
        return false;
      }
    }
  }
}
