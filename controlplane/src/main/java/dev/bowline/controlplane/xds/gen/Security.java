package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Any;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.controlplane.model.ClientTls;
import dev.bowline.controlplane.registry.Endpoint;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Istio's TLS shapes (its {@code cluster_tls.go}, {@code authn} and {@code security/model}): the
 * SDS references every sidecar uses — certificate {@code default} and trust bundle {@code ROOTCA}
 * from the {@code sds-grpc} cluster, i.e. the agent's Unix socket —, the ISTIO_MUTUAL upstream
 * context, auto mTLS's {@code transport_socket_matches}, the DestinationRule TLS modes, and the
 * inbound DownstreamTlsContext.
 */
final class Security {
  private Security() {}

  /**
   * Istio's default trust domain. Generators read the mesh's from {@link
   * dev.bowline.controlplane.model.PushContext#trustDomain()} (and {@code trustDomains()} with the
   * aliases); this constant is only that default.
   */
  static final String TRUST_DOMAIN = "cluster.local";

  static final String SDS_CLUSTER = "sds-grpc";
  static final String CERT = "default";
  static final String ROOTCA = "ROOTCA";
  static final String TLS_SOCKET = "envoy.transport_sockets.tls";
  static final String MATCH_KEY = "envoy.transport_socket_match";
  static final String TLS_MODE_LABEL = "security.istio.io/tlsMode";

  /** Istio's ALPN for mTLS between sidecars (metadata exchange first). */
  static final List<String> MTLS_ALPN = List.of("istio-peer-exchange", "istio");

  /**
   * The server's ALPN on an inbound TCP chain (istiod's {@code ALPNDownstreamWithMxc}): the TCP
   * metadata exchange first.
   */
  static final List<String> INBOUND_TCP_ALPN = List.of("istio-peer-exchange", "h2", "http/1.1");

  /** The server's ALPN on an inbound HTTP chain. */
  static final List<String> INBOUND_HTTP_ALPN = List.of("h2", "http/1.1");

  /** {@code sds_config} of a sidecar: the {@code sds-grpc} cluster (the agent's socket). */
  static final ConfigSource SDS_CONFIG =
      ConfigSource.newBuilder()
          .setApiConfigSource(
              ApiConfigSource.newBuilder()
                  .setApiType(ApiConfigSource.ApiType.GRPC)
                  .setSetNodeOnFirstMessageOnly(true)
                  .setTransportApiVersion(ApiVersion.V3)
                  .addGrpcServices(
                      GrpcService.newBuilder()
                          .setEnvoyGrpc(
                              GrpcService.EnvoyGrpc.newBuilder().setClusterName(SDS_CLUSTER))))
          .setInitialFetchTimeout(com.google.protobuf.Duration.getDefaultInstance())
          .setResourceApiVersion(ApiVersion.V3)
          .build();

  static SdsSecretConfig sds(String name) {
    return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(SDS_CONFIG).build();
  }

  /** Whether the endpoint's workload runs a sidecar that takes Istio mTLS (its tlsMode label). */
  static boolean istioTlsMode(Endpoint e) {
    return "istio".equals(e.labels().get(TLS_MODE_LABEL));
  }

  /** EDS endpoint metadata {@code envoy.transport_socket_match: {tlsMode: istio}}. */
  static Metadata istioEndpointMetadata() {
    return Metadata.newBuilder()
        .putFilterMetadata(
            MATCH_KEY,
            Struct.newBuilder()
                .putFields("tlsMode", Value.newBuilder().setStringValue("istio").build())
                .build())
        .build();
  }

  private static StringMatcher exact(String s) {
    return StringMatcher.newBuilder().setExact(s).build();
  }

  /** The ISTIO_MUTUAL client context: our certificate, ROOTCA, the destination's SPIFFE ids. */
  static UpstreamTlsContext istioMutual(Collection<String> sans, String sni) {
    CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
    for (String san : sans) {
      v.addMatchTypedSubjectAltNames(
          SubjectAltNameMatcher.newBuilder()
              .setSanType(SubjectAltNameMatcher.SanType.URI)
              .setMatcher(exact(san)));
    }
    return UpstreamTlsContext.newBuilder()
        .setSni(sni)
        .setCommonTlsContext(
            CommonTlsContext.newBuilder()
                .setTlsParams(
                    TlsParameters.newBuilder()
                        .setTlsMinimumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_2))
                .addAllAlpnProtocols(MTLS_ALPN)
                .addTlsCertificateSdsSecretConfigs(sds(CERT))
                .setCombinedValidationContext(
                    CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                        .setDefaultValidationContext(v)
                        .setValidationContextSdsSecretConfig(sds(ROOTCA))))
        .build();
  }

  /** DestinationRule SIMPLE or MUTUAL: files named in the rule, SANs matched as given. */
  static UpstreamTlsContext fromRule(ClientTls tls, String sni) {
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder();
    if (!tls.credentialName().isEmpty()) {
      // Istio serves credentialName secrets over ADS ("kubernetes://name"); the CA from
      // "<name>-cacert".
      String name = "kubernetes://" + tls.credentialName();
      ConfigSource ads = ClusterGenerator.ADS;
      if (tls.mode() == ClientTls.Mode.MUTUAL) {
        common.addTlsCertificateSdsSecretConfigs(
            SdsSecretConfig.newBuilder().setName(name).setSdsConfig(ads));
      }
      if (!tls.insecureSkipVerify()) {
        common.setCombinedValidationContext(
            CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(sanMatchers(tls.subjectAltNames()))
                .setValidationContextSdsSecretConfig(
                    SdsSecretConfig.newBuilder().setName(name + "-cacert").setSdsConfig(ads)));
      }
    } else {
      if (tls.mode() == ClientTls.Mode.MUTUAL) {
        common.addTlsCertificates(
            TlsCertificate.newBuilder()
                .setCertificateChain(file(tls.clientCertificate()))
                .setPrivateKey(file(tls.privateKey())));
      }
      CertificateValidationContext.Builder v = sanMatchers(tls.subjectAltNames());
      if (!tls.caCertificates().isEmpty() && !tls.insecureSkipVerify()) {
        v.setTrustedCa(file(tls.caCertificates()));
      }
      if (v.hasTrustedCa() || v.getMatchSubjectAltNamesCount() > 0) {
        common.setValidationContext(v);
      }
    }
    return UpstreamTlsContext.newBuilder().setSni(sni).setCommonTlsContext(common).build();
  }

  @SuppressWarnings("deprecation") // match_subject_alt_names: what istiod sends for SIMPLE/MUTUAL
  private static CertificateValidationContext.Builder sanMatchers(List<String> sans) {
    CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
    for (String san : sans) {
      v.addMatchSubjectAltNames(exact(san));
    }
    return v;
  }

  private static DataSource file(String path) {
    return DataSource.newBuilder().setFilename(path).build();
  }

  static TransportSocket socket(UpstreamTlsContext ctx) {
    return TransportSocket.newBuilder().setName(TLS_SOCKET).setTypedConfig(Any.pack(ctx)).build();
  }

  static TransportSocket socket(DownstreamTlsContext ctx) {
    return TransportSocket.newBuilder().setName(TLS_SOCKET).setTypedConfig(Any.pack(ctx)).build();
  }

  /** Auto mTLS: {@code tlsMode: istio} endpoints get {@code ctx}, the others plaintext. */
  static void autoMtls(Cluster.Builder c, UpstreamTlsContext ctx) {
    c.addTransportSocketMatches(
        Cluster.TransportSocketMatch.newBuilder()
            .setName("tlsMode-istio")
            .setMatch(
                Struct.newBuilder()
                    .putFields("tlsMode", Value.newBuilder().setStringValue("istio").build()))
            .setTransportSocket(socket(ctx)));
    c.addTransportSocketMatches(
        Cluster.TransportSocketMatch.newBuilder()
            .setName("tlsMode-disabled")
            .setMatch(Struct.getDefaultInstance())
            .setTransportSocket(
                TransportSocket.newBuilder()
                    .setName("envoy.transport_sockets.raw_buffer")
                    .setTypedConfig(Any.pack(RawBuffer.getDefaultInstance()))));
  }

  /**
   * The inbound side of Istio mTLS: our certificate, clients must present one chaining to ROOTCA
   * with a SPIFFE id in one of {@code trustDomains} (the mesh's and its aliases).
   */
  /**
   * istiod's cipher suites for inbound mesh mTLS ({@code SupportedCiphers} in Istio 1.16), TLS 1.2
   * only: TLS 1.3's are fixed.
   */
  static final List<String> INBOUND_CIPHERS =
      List.of(
          "ECDHE-ECDSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-ECDSA-AES128-GCM-SHA256",
          "ECDHE-RSA-AES128-GCM-SHA256",
          "AES256-GCM-SHA384",
          "AES128-GCM-SHA256");

  /**
   * istiod's inbound mTLS parameters: MeshConfig {@code meshMTLS.minProtocolVersion} (TLS 1.2 when
   * unset or {@code TLS_AUTO}) up to TLS 1.3, {@link #INBOUND_CIPHERS}.
   */
  static TlsParameters inboundTlsParams(dev.bowline.api.mesh.@Nullable MeshConfig mesh) {
    var mtls = mesh == null ? null : mesh.meshMTLS();
    var min =
        mtls != null
                && mtls.minProtocolVersion()
                    == dev.bowline.api.mesh.MeshTypes.TlsConfig.TlsVersion.TLSV1_3
            ? TlsParameters.TlsProtocol.TLSv1_3
            : TlsParameters.TlsProtocol.TLSv1_2;
    return TlsParameters.newBuilder()
        .setTlsMinimumProtocolVersion(min)
        .setTlsMaximumProtocolVersion(TlsParameters.TlsProtocol.TLSv1_3)
        .addAllCipherSuites(INBOUND_CIPHERS)
        .build();
  }

  /** The inbound side of Istio mTLS with {@code params} (see {@link #inboundTlsParams}). */
  static DownstreamTlsContext inbound(
      List<String> alpn, List<String> trustDomains, TlsParameters params) {
    CertificateValidationContext.Builder validation = CertificateValidationContext.newBuilder();
    for (String td : trustDomains) {
      validation.addMatchTypedSubjectAltNames(
          SubjectAltNameMatcher.newBuilder()
              .setSanType(SubjectAltNameMatcher.SanType.URI)
              .setMatcher(StringMatcher.newBuilder().setPrefix("spiffe://" + td + "/")));
    }
    return DownstreamTlsContext.newBuilder()
        .setRequireClientCertificate(BoolValue.of(true))
        .setCommonTlsContext(
            CommonTlsContext.newBuilder()
                .setTlsParams(params)
                .addAllAlpnProtocols(alpn)
                .addTlsCertificateSdsSecretConfigs(sds(CERT))
                .setCombinedValidationContext(
                    CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                        .setDefaultValidationContext(validation)
                        .setValidationContextSdsSecretConfig(sds(ROOTCA))))
        .build();
  }

  static ListenerFilter tlsInspector() {
    return ListenerFilter.newBuilder()
        .setName("envoy.filters.listener.tls_inspector")
        .setTypedConfig(Any.pack(TlsInspector.getDefaultInstance()))
        .build();
  }
}
