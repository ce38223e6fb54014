package dev.bowline.proxy.http.filter.metadataexchange;

import dev.bowline.proxy.http.filter.TrafficDirection;
import io.netty.util.AsciiString;

/**
 * The metadata exchange filter of one listener.
 *
 * @param direction the listener's direction: outbound adds our metadata to requests, inbound to
 *     responses, unspecified to both (istio-proxy's rule: never hand it to the local app)
 * @param metadataValue our {@code x-envoy-peer-metadata}: base64 of the serialized Struct of our
 *     exchanged node metadata (as bytes, so every response copies it to the wire as it is)
 * @param metadataId our {@code x-envoy-peer-metadata-id}: the node id
 * @param peers the proxy-wide cache of decoded peers
 */
public record MetadataExchangeConfig(
    TrafficDirection direction,
    AsciiString metadataValue,
    AsciiString metadataId,
    PeerCache peers) {}
