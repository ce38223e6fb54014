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

  /**
   * Adds this filter's handler to {@code ch} for a filter that calls out through the proxy's
   * clusters ({@code runtime}); by default {@link #install(Channel)}.
   */
  default void install(Channel ch, dev.bowline.proxy.runtime.ProxyRuntime runtime) {
    install(ch);
  }
}
