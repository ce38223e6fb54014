package dev.bowline.proxy.http.filter.metadataexchange;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterContext;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.NodeInfo;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.wasm.NullVmPlugin;
import io.netty.util.AsciiString;
import java.util.Base64;
import java.util.List;

/**
 * {@code envoy.wasm.metadata_exchange}: istio-proxy's HTTP metadata exchange. The configuration
 * istiod 1.16 sends is {@code
 * type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange} (a {@code protocol}
 * string, unused over HTTP); JSON in a {@code StringValue} (older Istio) is accepted too, with
 * {@code max_peer_cache_size}.
 */
public final class MetadataExchangePlugin implements NullVmPlugin<MetadataExchangeConfig> {
  /** The plugin's null-VM name. */
  public static final String NAME = "envoy.wasm.metadata_exchange";

  /** The config type istiod puts in {@code configuration}. */
  public static final String CONFIG_TYPE_URL =
      "type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange";

  /** The peer's base64 Struct of node metadata. */
  public static final String HEADER = "x-envoy-peer-metadata";

  /** The peer's node id. */
  public static final String HEADER_ID = "x-envoy-peer-metadata-id";

  /** Filter state: the downstream peer, learned from the request. */
  public static final StreamInfo.StateKey<PeerInfo> DOWNSTREAM_PEER =
      new StreamInfo.StateKey<>("wasm.downstream_peer");

  /** Filter state: the upstream peer, learned from the response. */
  public static final StreamInfo.StateKey<PeerInfo> UPSTREAM_PEER =
      new StreamInfo.StateKey<>("wasm.upstream_peer");

  /** istio-proxy's default exchanged keys when the node has no {@code EXCHANGE_KEYS}. */
  static final List<String> DEFAULT_KEYS =
      List.of(
          "NAME",
          "NAMESPACE",
          "INSTANCE_IPS",
          "LABELS",
          "OWNER",
          "PLATFORM_METADATA",
          "WORKLOAD_NAME",
          "MESH_ID",
          "SERVICE_ACCOUNT",
          "CLUSTER_ID",
          "APP_CONTAINERS");

  private final NodeInfo node;
  private final AsciiString metadataValue;
  private final PeerCache peers = new PeerCache(500);

  public MetadataExchangePlugin(NodeInfo node) {
    this.node = node;
    this.metadataValue = new AsciiString(encode(node.metadata()));
  }

  /** Base64 of the serialized Struct of the exchanged keys of {@code metadata}. */
  static String encode(Struct metadata) {
    return Base64.getEncoder().encodeToString(exchanged(metadata).toByteArray());
  }

  /**
   * The part of node metadata {@code metadata} a peer is told: its {@code EXCHANGE_KEYS}, else
   * istio-proxy's default keys.
   */
  public static Struct exchanged(Struct metadata) {
    String keys = "";
    Value k = metadata.getFieldsOrDefault("EXCHANGE_KEYS", Value.getDefaultInstance());
    if (k.hasStringValue()) {
      keys = k.getStringValue();
    }
    List<String> exchanged =
        keys.isBlank()
            ? DEFAULT_KEYS
            : java.util.Arrays.stream(keys.split(",")).map(String::trim).toList();
    Struct.Builder out = Struct.newBuilder();
    for (String key : exchanged) {
      Value v = metadata.getFieldsMap().get(key);
      if (v != null) {
        out.putFields(key, v);
      }
    }
    return out.build();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public MetadataExchangeConfig parse(String rootId, Any configuration, FilterContext context)
      throws InvalidProtocolBufferException {
    PeerCache cache = peers;
    if (configuration.getTypeUrl().equals("type.googleapis.com/google.protobuf.StringValue")) {
      String json =
          Anys.unpack(
                  configuration,
                  com.google.protobuf.StringValue.getDescriptor(),
                  com.google.protobuf.StringValue.parser())
              .getValue();
      int max = JsonConfig.intField(json, "max_peer_cache_size", 500);
      if (max != 500) {
        cache = new PeerCache(max);
      }
    } else if (!configuration.getTypeUrl().isEmpty()
        && !configuration.getTypeUrl().equals(CONFIG_TYPE_URL)) {
      throw new IllegalArgumentException(
          "unsupported type " + configuration.getTypeUrl() + " (want " + CONFIG_TYPE_URL + ")");
    }
    return new MetadataExchangeConfig(
        context.direction(), metadataValue, new AsciiString(node.id()), cache);
  }

  @Override
  public HttpFilter create(MetadataExchangeConfig config, StreamInfo stream) {
    return new MetadataExchangeFilter(config, stream);
  }
}
