package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.BoolValue;
import dev.bowline.controlplane.model.GatewayServer;
import dev.bowline.controlplane.model.GatewayTls;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;

/**
 * The {@code DownstreamTlsContext} of a gateway server that terminates TLS, as istiod builds it
 * ({@code buildGatewayListenerTLSContext}):
 *
 * <ul>
 *   <li>{@code credentialName}: the certificate is the SDS secret {@code kubernetes://<name>} over
 *       ADS, the client CA (MUTUAL) {@code kubernetes://<name>-cacert} in a combined validation
 *       context with the SAN, SPKI and hash checks;
 *   <li>files ({@code serverCertificate}, {@code privateKey}, {@code caCertificates}): inline
 *       {@code filename} data sources (istiod hands these to its agent's SDS as {@code file-cert:}
 *       names; the proxy reads the files itself here, decision 0022);
 *   <li>{@code ISTIO_MUTUAL}: the workload certificate {@code default} and {@code ROOTCA} from the
 *       agent, client certificate required;
 *   <li>ALPN {@code h2, http/1.1} for HTTPS; TLS 1.2 minimum unless {@code minProtocolVersion} says
 *       otherwise; {@code cipherSuites} as given.
 * </ul>
 */
final class GatewayTlsContext {
  private GatewayTlsContext() {}

  /** Istio's SDS name for a {@code credentialName}: {@code kubernetes://<name>}. */
  static String sdsName(String credentialName) {
    return credentialName.startsWith("sds://")
        ? credentialName.substring("sds://".length())
        : SecretGenerator.PREFIX + credentialName;
  }

  static DownstreamTlsContext of(GatewayServer server, GatewayTls tls) {
    CommonTlsContext.Builder common = CommonTlsContext.newBuilder();
    if (server.protocol() == dev.bowline.controlplane.registry.Protocol.HTTPS) {
      common.addAllAlpnProtocols(List.of("h2", "http/1.1"));
    }
    TlsParameters.Builder params =
        TlsParameters.newBuilder()
            .setTlsMinimumProtocolVersion(
                tls.minProtocolVersion().isEmpty()
                    ? TlsParameters.TlsProtocol.TLSv1_2
                    : protocol(tls.minProtocolVersion()))
            .addAllCipherSuites(tls.cipherSuites());
    if (!tls.maxProtocolVersion().isEmpty()) {
      params.setTlsMaximumProtocolVersion(protocol(tls.maxProtocolVersion()));
    }
    common.setTlsParams(params);
    boolean mutual = tls.mode().equals("MUTUAL") || tls.mode().equals("OPTIONAL_MUTUAL");
    if (tls.mode().equals("ISTIO_MUTUAL")) {
      common.addTlsCertificateSdsSecretConfigs(Security.sds(Security.CERT));
      common.setCombinedValidationContext(
          CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
              .setDefaultValidationContext(validation(tls))
              .setValidationContextSdsSecretConfig(Security.sds(Security.ROOTCA)));
    } else if (!tls.credentialName().isEmpty()) {
      String name = sdsName(tls.credentialName());
      common.addTlsCertificateSdsSecretConfigs(
          SdsSecretConfig.newBuilder().setName(name).setSdsConfig(ClusterGenerator.ADS));
      if (mutual) {
        common.setCombinedValidationContext(
            CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(validation(tls))
                .setValidationContextSdsSecretConfig(
                    SdsSecretConfig.newBuilder()
                        .setName(name + SecretGenerator.CA_SUFFIX)
                        .setSdsConfig(ClusterGenerator.ADS)));
      }
    } else {
      common.addTlsCertificates(
          TlsCertificate.newBuilder()
              .setCertificateChain(file(tls.serverCertificate()))
              .setPrivateKey(file(tls.privateKey())));
      if (mutual && !tls.caCertificates().isEmpty()) {
        common.setValidationContext(validation(tls).setTrustedCa(file(tls.caCertificates())));
      }
    }
    return DownstreamTlsContext.newBuilder()
        .setCommonTlsContext(common)
        .setRequireClientCertificate(
            BoolValue.of(tls.mode().equals("MUTUAL") || tls.mode().equals("ISTIO_MUTUAL")))
        .build();
  }

  @SuppressWarnings("deprecation") // match_subject_alt_names: what istiod sends for gateways
  private static CertificateValidationContext.Builder validation(GatewayTls tls) {
    CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
    for (String san : tls.subjectAltNames()) {
      v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san));
    }
    v.addAllVerifyCertificateSpki(tls.verifyCertificateSpki());
    v.addAllVerifyCertificateHash(tls.verifyCertificateHash());
    return v;
  }

  private static TlsParameters.TlsProtocol protocol(String istio) {
    return switch (istio) {
      case "TLSV1_0" -> TlsParameters.TlsProtocol.TLSv1_0;
      case "TLSV1_1" -> TlsParameters.TlsProtocol.TLSv1_1;
      case "TLSV1_2" -> TlsParameters.TlsProtocol.TLSv1_2;
      case "TLSV1_3" -> TlsParameters.TlsProtocol.TLSv1_3;
      default -> TlsParameters.TlsProtocol.TLS_AUTO;
    };
  }

  private static DataSource file(String path) {
    return DataSource.newBuilder().setFilename(path).build();
  }
}
