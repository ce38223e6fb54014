package dev.bowline.proxy.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.bowline.proxy.tls.TlsParams;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol;
import org.junit.jupiter.api.Test;

/** {@code common_tls_context.tls_params}: versions, cipher suites, curves; bad values named. */
class TlsParamsParserTest {
  private static TlsParams parse(TlsParameters p) throws Exception {
    DownstreamTlsContext d =
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                CommonTlsContext.newBuilder()
                    .setTlsParams(p)
                    .addTlsCertificateSdsSecretConfigs(
                        SdsSecretConfig.newBuilder().setName("default")))
            .build();
    TransportSocket ts =
        TransportSocket.newBuilder()
            .setName("envoy.transport_sockets.tls")
            .setTypedConfig(Any.pack(d))
            .build();
    return TlsParser.downstream(ts, "chain").orElseThrow().common().params();
  }

  @Test
  void istiodsInboundParametersAreRead() throws Exception {
    TlsParams p =
        parse(
            TlsParameters.newBuilder()
                .setTlsMinimumProtocolVersion(TlsProtocol.TLSv1_2)
                .addCipherSuites("ECDHE-ECDSA-AES256-GCM-SHA384")
                .addCipherSuites("[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-RSA-AES128-GCM-SHA256]")
                .addEcdhCurves("X25519")
                .addEcdhCurves("P-256")
                .build());
    assertThat(p.minVersion()).isEqualTo("TLSv1.2");
    assertThat(p.maxVersion()).isEqualTo("TLSv1.3");
    assertThat(p.cipherSuites())
        .containsExactly(
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assertThat(p.ecdhCurves()).containsExactly("X25519", "P-256");
    assertThat(parse(TlsParameters.getDefaultInstance())).isEqualTo(TlsParams.DEFAULT);
    // istiod 1.16's inbound mTLS list, whole
    TlsParams istio =
        parse(
            TlsParameters.newBuilder()
                .setTlsMaximumProtocolVersion(TlsProtocol.TLSv1_3)
                .addAllCipherSuites(
                    java.util.List.of(
                        "ECDHE-ECDSA-AES256-GCM-SHA384",
                        "ECDHE-RSA-AES256-GCM-SHA384",
                        "ECDHE-ECDSA-AES128-GCM-SHA256",
                        "ECDHE-RSA-AES128-GCM-SHA256",
                        "AES256-GCM-SHA384",
                        "AES128-GCM-SHA256"))
                .build());
    assertThat(istio.cipherSuites())
        .hasSize(6)
        .endsWith("TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_RSA_WITH_AES_128_GCM_SHA256");
    // TLS 1.3 names (as users put them in Gateway cipherSuites) are always on: skipped
    assertThat(
            parse(
                    TlsParameters.newBuilder()
                        .addCipherSuites("TLS_AES_128_GCM_SHA256")
                        .addCipherSuites("ECDHE-ECDSA-AES128-GCM-SHA256")
                        .build())
                .cipherSuites())
        .containsExactly("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assertThat(
            parse(
                    TlsParameters.newBuilder()
                        .setTlsMinimumProtocolVersion(TlsProtocol.TLSv1_3)
                        .build())
                .minVersion())
        .isEqualTo("TLSv1.3");
  }

  @Test
  void unsupportedValuesAreRefusedNamingTheField() {
    assertThatThrownBy(
            () ->
                parse(
                    TlsParameters.newBuilder()
                        .setTlsMinimumProtocolVersion(TlsProtocol.TLSv1_0)
                        .build()))
        .hasMessageContaining(
            "chain.typed_config.common_tls_context.tls_params.tls_minimum_protocol_version")
        .hasMessageContaining("TLSv1_0");
    assertThatThrownBy(
            () ->
                parse(
                    TlsParameters.newBuilder()
                        .setTlsMinimumProtocolVersion(TlsProtocol.TLSv1_3)
                        .setTlsMaximumProtocolVersion(TlsProtocol.TLSv1_2)
                        .build()))
        .hasMessageContaining("tls_params.tls_maximum_protocol_version")
        .hasMessageContaining("below the minimum");
    assertThatThrownBy(
            () -> parse(TlsParameters.newBuilder().addCipherSuites("NOT-A-CIPHER").build()))
        .hasMessageContaining("tls_params.cipher_suites[0]")
        .hasMessageContaining("NOT-A-CIPHER");
    assertThatThrownBy(() -> parse(TlsParameters.newBuilder().addEcdhCurves("P-192").build()))
        .hasMessageContaining("tls_params.ecdh_curves[0]")
        .hasMessageContaining("P-192");
  }
}
