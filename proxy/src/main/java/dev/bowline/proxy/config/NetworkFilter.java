package dev.bowline.proxy.config;

/** The terminal network filter of a chain. */
public sealed interface NetworkFilter permits HttpConnectionManagerConfig, TcpProxyConfig {}
