package dev.bowline.proxy.tls;

/** Where an SDS secret comes from: Envoy's {@code sds_config}. */
public sealed interface SdsSource {
  /** A short key for logs and the secret store. */
  String key();

  /** No {@code sds_config}: a secret of the bootstrap's {@code static_resources.secrets}. */
  record Static() implements SdsSource {
    @Override
    public String key() {
      return "static";
    }
  }

  /** {@code sds_config: {ads: {}}}: the secret arrives on the ADS stream. */
  record Ads() implements SdsSource {
    @Override
    public String key() {
      return "ads";
    }
  }

  /**
   * {@code sds_config.api_config_source} with one {@code envoy_grpc} service: a {@code
   * SecretDiscoveryService/StreamSecrets} stream to the static cluster {@code cluster} (Istio's
   * {@code sds-grpc} over the agent's Unix socket).
   */
  record Grpc(String cluster) implements SdsSource {
    @Override
    public String key() {
      return "grpc:" + cluster;
    }
  }
}
