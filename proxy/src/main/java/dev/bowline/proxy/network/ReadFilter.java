package dev.bowline.proxy.network;

import io.netty.channel.Channel;

/**
 * A non-terminal network filter of a filter chain, built once from its config. Installed on every
 * connection the chain takes, after the transport socket (it sees plaintext) and before the
 * terminal filter.
 */
@FunctionalInterface
public interface ReadFilter {
  /** Adds this filter's handler to the new connection {@code ch}; called on its event loop. */
  void install(Channel ch);
}
