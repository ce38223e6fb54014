package dev.bowline.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.tls.CertificateSource;
import dev.bowline.proxy.tls.CommonTls;
import dev.bowline.proxy.tls.DownstreamTls;
import dev.bowline.proxy.tls.SanMatcher;
import dev.bowline.proxy.tls.SdsSource;
import dev.bowline.proxy.tls.TlsParams;
import dev.bowline.proxy.tls.TrustSource;
import dev.bowline.proxy.tls.UpstreamTls;
import dev.bowline.proxy.tls.UpstreamTransport;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code transport_socket} ({@code envoy.transport_sockets.tls}, {@code raw_buffer}) and {@code
 * transport_socket_matches} → the records of {@code dev.bowline.proxy.tls}. Everything about TLS
 * that the cluster and listener parsers need is here, so they only call in.
 */
final class TlsParser {
  static final String UPSTREAM =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";
  static final String DOWNSTREAM =
      "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
  static final String RAW_BUFFER =
      "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer";
  static final String MATCH_METADATA = "envoy.transport_socket_match";

  private TlsParser() {}

  /** A cluster's {@code transport_socket} and {@code transport_socket_matches}. */
  static UpstreamTransport upstream(Cluster c) throws InvalidResourceException {
    if (!c.hasTransportSocket() && c.getTransportSocketMatchesCount() == 0) {
      return UpstreamTransport.PLAINTEXT;
    }
    Optional<UpstreamTls> def =
        c.hasTransportSocket()
            ? upstreamSocket(c.getTransportSocket(), "transport_socket")
            : Optional.empty();
    List<UpstreamTransport.Match> matches = new ArrayList<>();
    for (int i = 0; i < c.getTransportSocketMatchesCount(); i++) {
      var m = c.getTransportSocketMatches(i);
      String f = "transport_socket_matches[" + i + "]";
      Map<String, String> criteria = new java.util.TreeMap<>();
      for (var e : m.getMatch().getFieldsMap().entrySet()) {
        criteria.put(e.getKey(), value(e.getValue()));
      }
      if (!m.hasTransportSocket()) {
        throw new InvalidResourceException(f + ".transport_socket", "is required");
      }
      matches.add(
          new UpstreamTransport.Match(
              m.getName(),
              criteria,
              upstreamSocket(m.getTransportSocket(), f + ".transport_socket")));
    }
    return new UpstreamTransport(def, matches);
  }

  /** An endpoint's {@code envoy.transport_socket_match} metadata, values as strings. */
  static Map<String, String> endpointMatch(io.envoyproxy.envoy.config.core.v3.Metadata md) {
    var s = md.getFilterMetadataMap().get(MATCH_METADATA);
    if (s == null) {
      return Map.of();
    }
    Map<String, String> out = new java.util.TreeMap<>();
    for (var e : s.getFieldsMap().entrySet()) {
      out.put(e.getKey(), value(e.getValue()));
    }
    return out;
  }

  static String value(com.google.protobuf.Value v) {
    return switch (v.getKindCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      case NUMBER_VALUE -> {
        double d = v.getNumberValue();
        yield d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
      }
      default -> v.toString();
    };
  }

  private static Optional<UpstreamTls> upstreamSocket(TransportSocket ts, String field)
      throws InvalidResourceException {
    Any any = ts.getTypedConfig();
    if (isRawBuffer(ts)) {
      return Optional.empty();
    }
    if (!any.getTypeUrl().equals(UPSTREAM)) {
      throw new InvalidResourceException(
          field + ".typed_config",
          "unsupported transport socket " + describe(ts) + " (expected UpstreamTlsContext)");
    }
    UpstreamTlsContext u;
    try {
      u = Anys.unpack(any, UpstreamTlsContext.getDescriptor(), UpstreamTlsContext.parser());
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(
          field + ".typed_config", "cannot unpack: " + e.getMessage());
    }
    String f = field + ".typed_config";
    CommonTls common = common(u.getCommonTlsContext(), f + ".common_tls_context");
    return Optional.of(new UpstreamTls(common, u.getSni()));
  }

  /** A filter chain's {@code transport_socket}: empty for plaintext. */
  static Optional<DownstreamTls> downstream(TransportSocket ts, String field)
      throws InvalidResourceException {
    if (isRawBuffer(ts)) {
      return Optional.empty();
    }
    Any any = ts.getTypedConfig();
    if (!any.getTypeUrl().equals(DOWNSTREAM)) {
      throw new InvalidResourceException(
          field + ".typed_config",
          "unsupported transport socket " + describe(ts) + " (expected DownstreamTlsContext)");
    }
    DownstreamTlsContext d;
    try {
      d = Anys.unpack(any, DownstreamTlsContext.getDescriptor(), DownstreamTlsContext.parser());
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidResourceException(
          field + ".typed_config", "cannot unpack: " + e.getMessage());
    }
    String f = field + ".typed_config";
    CommonTls common = common(d.getCommonTlsContext(), f + ".common_tls_context");
    if (common.certificates().isEmpty()) {
      throw new InvalidResourceException(
          f + ".common_tls_context",
          "a server needs a certificate (tls_certificates or tls_certificate_sds_secret_configs)");
    }
    boolean require = d.hasRequireClientCertificate() && d.getRequireClientCertificate().getValue();
    return Optional.of(new DownstreamTls(common, require));
  }

  private static boolean isRawBuffer(TransportSocket ts) {
    return ts.getTypedConfig().getTypeUrl().equals(RAW_BUFFER)
        || (!ts.hasTypedConfig() && ts.getName().equals("envoy.transport_sockets.raw_buffer"));
  }

  private static String describe(TransportSocket ts) {
    return ts.hasTypedConfig() ? ts.getTypedConfig().getTypeUrl() : "'" + ts.getName() + "'";
  }

  private static CommonTls common(CommonTlsContext c, String f) throws InvalidResourceException {
    if (c.hasTlsCertificateProviderInstance()
        || c.hasCustomHandshaker()
        || c.hasCustomTlsCertificateSelector()) {
      throw new InvalidResourceException(
          f, "certificate providers and custom handshakers are not supported");
    }
    List<CertificateSource> certs = new ArrayList<>();
    for (int i = 0; i < c.getTlsCertificatesCount(); i++) {
      certs.add(inline(c.getTlsCertificates(i), f + ".tls_certificates[" + i + "]"));
    }
    for (int i = 0; i < c.getTlsCertificateSdsSecretConfigsCount(); i++) {
      SdsSecretConfig s = c.getTlsCertificateSdsSecretConfigs(i);
      String sf = f + ".tls_certificate_sds_secret_configs[" + i + "]";
      certs.add(new CertificateSource.Sds(name(s, sf), source(s, sf)));
    }
    Optional<TrustSource> trust = Optional.empty();
    List<SanMatcher> sans = new ArrayList<>();
    switch (c.getValidationContextTypeCase()) {
      case VALIDATION_CONTEXT -> {
        var v = c.getValidationContext();
        String vf = f + ".validation_context";
        if (v.hasTrustedCa()) {
          trust = Optional.of(new TrustSource.Inline(data(v.getTrustedCa(), vf + ".trusted_ca")));
        }
        sans.addAll(sanMatchers(v, vf));
      }
      case VALIDATION_CONTEXT_SDS_SECRET_CONFIG -> {
        var s = c.getValidationContextSdsSecretConfig();
        String sf = f + ".validation_context_sds_secret_config";
        trust = Optional.of(new TrustSource.Sds(name(s, sf), source(s, sf)));
      }
      case COMBINED_VALIDATION_CONTEXT -> {
        var cv = c.getCombinedValidationContext();
        String cf = f + ".combined_validation_context";
        var dv = cv.getDefaultValidationContext();
        if (dv.hasTrustedCa()) {
          throw new InvalidResourceException(
              cf + ".default_validation_context.trusted_ca",
              "the trusted CA of a combined context comes from its SDS secret");
        }
        sans.addAll(sanMatchers(dv, cf + ".default_validation_context"));
        var s = cv.getValidationContextSdsSecretConfig();
        String sf = cf + ".validation_context_sds_secret_config";
        trust = Optional.of(new TrustSource.Sds(name(s, sf), source(s, sf)));
      }
      case VALIDATION_CONTEXT_CERTIFICATE_PROVIDER,
          VALIDATION_CONTEXT_CERTIFICATE_PROVIDER_INSTANCE ->
          throw new InvalidResourceException(f, "certificate providers are not supported");
      case VALIDATIONCONTEXTTYPE_NOT_SET -> {}
    }
    return new CommonTls(
        certs, trust, sans, c.getAlpnProtocolsList(), params(c, f + ".tls_params"));
  }

  private static final java.util.Set<String> TLS13_SUITES =
      java.util.Set.of(
          "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  /** Envoy's key-exchange group names Bowline offers (BoringSSL's; the JDK's are mapped). */
  static final java.util.Set<String> CURVES = java.util.Set.of("X25519", "P-256", "P-384", "P-521");

  private static TlsParams params(CommonTlsContext c, String f) throws InvalidResourceException {
    if (!c.hasTlsParams()) {
      return TlsParams.DEFAULT;
    }
    var p = c.getTlsParams();
    if (p.getSignatureAlgorithmsCount() > 0) {
      throw new InvalidResourceException(f + ".signature_algorithms", "not supported");
    }
    String min =
        version(p.getTlsMinimumProtocolVersion(), "TLSv1.2", f + ".tls_minimum_protocol_version");
    String max =
        version(p.getTlsMaximumProtocolVersion(), "TLSv1.3", f + ".tls_maximum_protocol_version");
    if (max.equals("TLSv1.2") && min.equals("TLSv1.3")) {
      throw new InvalidResourceException(
          f + ".tls_maximum_protocol_version", max + " is below the minimum " + min);
    }
    List<String> ciphers = new ArrayList<>();
    for (int i = 0; i < p.getCipherSuitesCount(); i++) {
      String entry = p.getCipherSuites(i).strip();
      // BoringSSL's equal-preference groups "[A|B]": kept in order
      if (entry.startsWith("[") && entry.endsWith("]")) {
        entry = entry.substring(1, entry.length() - 1);
      }
      for (String name : entry.split("\\|")) {
        if (TLS13_SUITES.contains(name.strip())) {
          continue; // TLS 1.3's suites are always on (BoringSSL's rule); Gateway users list them
        }
        String java = io.netty.handler.ssl.CipherSuiteConverter.toJava(name.strip(), "TLS");
        if (java == null || !KnownSuites.JAVA.contains(java)) {
          throw new InvalidResourceException(
              f + ".cipher_suites[" + i + "]", "unknown cipher suite " + name.strip());
        }
        if (!ciphers.contains(java)) {
          ciphers.add(java);
        }
      }
    }
    List<String> curves = new ArrayList<>();
    for (int i = 0; i < p.getEcdhCurvesCount(); i++) {
      String curve = p.getEcdhCurves(i).strip();
      if (!CURVES.contains(curve)) {
        throw new InvalidResourceException(
            f + ".ecdh_curves[" + i + "]",
            "unsupported curve " + curve + " (supported: X25519, P-256, P-384, P-521)");
      }
      curves.add(curve);
    }
    return new TlsParams(min, max, ciphers, curves);
  }

  /**
   * The suites the JDK or BoringSSL knows, by IANA name, loaded on first use. A context keeps those
   * its provider supports (JDK 25 no longer offers the static-RSA suites istiod lists).
   */
  private static final class KnownSuites {
    static final java.util.Set<String> JAVA = load();

    private static java.util.Set<String> load() {
      java.util.Set<String> all = new java.util.HashSet<>();
      try {
        all.addAll(
            List.of(
                javax.net.ssl.SSLContext.getDefault()
                    .getSupportedSSLParameters()
                    .getCipherSuites()));
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      if (io.netty.handler.ssl.OpenSsl.isAvailable()) {
        all.addAll(io.netty.handler.ssl.OpenSsl.availableJavaCipherSuites());
      }
      return java.util.Set.copyOf(all);
    }
  }

  private static String version(
      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol v,
      String auto,
      String f)
      throws InvalidResourceException {
    return switch (v) {
      case TLS_AUTO -> auto;
      case TLSv1_2 -> "TLSv1.2";
      case TLSv1_3 -> "TLSv1.3";
      default ->
          throw new InvalidResourceException(f, v + " is not supported (TLSv1_2 and TLSv1_3 only)");
    };
  }

  /** The SAN matchers of a validation context (inline or in an SDS validation secret). */
  @SuppressWarnings("deprecation") // match_subject_alt_names: still sent by older control planes
  static List<SanMatcher> sanMatchers(CertificateValidationContext v, String f)
      throws InvalidResourceException {
    if (v.getVerifyCertificateSpkiCount() > 0
        || v.getVerifyCertificateHashCount() > 0
        || v.hasCrl()
        || v.hasCustomValidatorConfig()) {
      throw new InvalidResourceException(
          f,
          "verify_certificate_spki, verify_certificate_hash, crl and custom_validator_config are"
              + " not supported");
    }
    List<SanMatcher> out = new ArrayList<>();
    for (int i = 0; i < v.getMatchTypedSubjectAltNamesCount(); i++) {
      SubjectAltNameMatcher m = v.getMatchTypedSubjectAltNames(i);
      String mf = f + ".match_typed_subject_alt_names[" + i + "]";
      SanMatcher.Type type =
          switch (m.getSanType()) {
            case DNS -> SanMatcher.Type.DNS;
            case URI -> SanMatcher.Type.URI;
            case EMAIL -> SanMatcher.Type.EMAIL;
            case IP_ADDRESS -> SanMatcher.Type.IP_ADDRESS;
            default ->
                throw new InvalidResourceException(
                    mf + ".san_type", m.getSanType() + " is not supported");
          };
      out.add(new SanMatcher(type, Protos.stringMatch(m.getMatcher(), mf + ".matcher")));
    }
    for (int i = 0; i < v.getMatchSubjectAltNamesCount(); i++) {
      out.add(
          new SanMatcher(
              SanMatcher.Type.ANY,
              Protos.stringMatch(
                  v.getMatchSubjectAltNames(i), f + ".match_subject_alt_names[" + i + "]")));
    }
    return out;
  }

  private static CertificateSource inline(TlsCertificate t, String f)
      throws InvalidResourceException {
    if (!t.hasCertificateChain() || !t.hasPrivateKey()) {
      throw new InvalidResourceException(f, "certificate_chain and private_key are required");
    }
    return new CertificateSource.Inline(
        data(t.getCertificateChain(), f + ".certificate_chain"),
        data(t.getPrivateKey(), f + ".private_key"));
  }

  static String data(DataSource d, String f) throws InvalidResourceException {
    return switch (d.getSpecifierCase()) {
      case INLINE_BYTES -> d.getInlineBytes().toString(StandardCharsets.UTF_8);
      case INLINE_STRING -> d.getInlineString();
      case FILENAME -> {
        try {
          yield Files.readString(Path.of(d.getFilename()));
        } catch (IOException e) {
          throw new InvalidResourceException(
              f + ".filename", "cannot read " + d.getFilename() + ": " + e.getMessage());
        }
      }
      case ENVIRONMENT_VARIABLE, SPECIFIER_NOT_SET ->
          throw new InvalidResourceException(f, "one of inline_bytes, inline_string, filename");
    };
  }

  private static String name(SdsSecretConfig s, String f) throws InvalidResourceException {
    if (s.getName().isEmpty()) {
      throw new InvalidResourceException(f + ".name", "must not be empty");
    }
    return s.getName();
  }

  private static SdsSource source(SdsSecretConfig s, String f) throws InvalidResourceException {
    if (!s.hasSdsConfig()) {
      return new SdsSource.Static();
    }
    ConfigSource cs = s.getSdsConfig();
    if (cs.hasAds()) {
      return new SdsSource.Ads(); // through the ADS stream (Istio's credentialName secrets)
    }
    if (cs.hasApiConfigSource()) {
      ApiConfigSource api = cs.getApiConfigSource();
      if (api.getApiType() != ApiConfigSource.ApiType.GRPC) {
        throw new InvalidResourceException(
            f + ".sds_config.api_config_source.api_type", api.getApiType() + " is not supported");
      }
      if (api.getGrpcServicesCount() != 1 || !api.getGrpcServices(0).hasEnvoyGrpc()) {
        throw new InvalidResourceException(
            f + ".sds_config.api_config_source.grpc_services",
            "exactly one envoy_grpc service is required");
      }
      String cluster = api.getGrpcServices(0).getEnvoyGrpc().getClusterName();
      if (cluster.isEmpty()) {
        throw new InvalidResourceException(
            f + ".sds_config.api_config_source.grpc_services[0].envoy_grpc.cluster_name",
            "must not be empty");
      }
      return new SdsSource.Grpc(cluster);
    }
    throw new InvalidResourceException(f + ".sds_config", "only ads or api_config_source (GRPC)");
  }
}
