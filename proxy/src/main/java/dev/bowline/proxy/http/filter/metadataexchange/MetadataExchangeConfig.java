package dev.bowline.proxy.http.filter.metadataexchange;

import dev.bowline.proxy.http.filter.TrafficDirection;

/**
 * The metadata exchange filter of one listener.
 *
 * @param direction the listener's direction: outbound adds our metadata to requests, inbound to
 *     responses, unspecified to both (istio-proxy's rule: never hand it to the local app)
 * @param metadataValue our {@code x-envoy-peer-metadata}: base64 of the serialized Struct of our
 *     exchanged node metadata
 * @param metadataId our {@code x-envoy-peer-metadata-id}: the node id
 * @param peers the proxy-wide cache of decoded peers
 */
public record MetadataExchangeConfig(
    TrafficDirection direction, String metadataValue, String metadataId, PeerCache peers) {}
