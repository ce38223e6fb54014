package dev.bowline.proxy.config;

/**
 * One filter chain: its match and its terminal network filter.
 *
 * @param name the chain's name (may be empty)
 * @param match which connections take this chain
 * @param filter the terminal network filter (HTTP connection manager or TCP proxy)
 */
public record FilterChain(String name, FilterChainMatch match, NetworkFilter filter) {}
