package dev.bowline.proxy.network.metadataexchange;

import java.util.Arrays;

/**
 * One TCP metadata exchange filter's config.
 *
 * @param protocol the ALPN that must have been negotiated
 * @param frame our whole frame (magic, length, Any of our metadata), the same for every connection
 * @param stats the proxy's {@code metadata_exchange.*} counters
 */
record TcpMetadataExchangeConfig(String protocol, byte[] frame, MetadataExchangeStats stats) {
  @Override
  public boolean equals(Object o) {
    return o instanceof TcpMetadataExchangeConfig c
        && c.protocol.equals(protocol)
        && Arrays.equals(c.frame, frame)
        && c.stats == stats;
  }

  @Override
  public int hashCode() {
    return protocol.hashCode() * 31 + Arrays.hashCode(frame);
  }

  @Override
  public String toString() {
    return "TcpMetadataExchangeConfig[protocol=" + protocol + "]";
  }
}
