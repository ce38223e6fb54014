package dev.bowline.proxy.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A listener: where it binds and how a new connection finds its filter chain.
 *
 * @param name the listener's xDS name
 * @param address bind address
 * @param filterChains chains in config order
 * @param defaultChain used when no chain matches
 * @param bindToPort false for listeners reached only by hand-off
 * @param inspection the listener filters that look at a connection's first bytes
 * @param bufferLimitBytes {@code per_connection_buffer_limit_bytes}: the soft limit of what a
 *     connection (and a stream of it) holds, 0 for none ({@link #DEFAULT_BUFFER_LIMIT} by default)
 * @param originalDst whether the {@code envoy.filters.listener.original_dst} listener filter reads
 *     each connection's original destination ({@code SO_ORIGINAL_DST}) as its local address
 * @param useOriginalDst {@code use_original_dst}: a connection whose original destination another
 *     listener has (its exact address, else the wildcard address of that port) is handed to it
 * @param inbound {@code traffic_direction: INBOUND}: what {@code /drain_listeners?inboundonly}
 *     drains
 * @param modifyOnlyDrain {@code drain_type: MODIFY_ONLY}: the proxy's failed health check ({@code
 *     /healthcheck/fail}) does not drain-close its connections (Envoy's {@code
 *     DrainManagerImpl::drainClose}); changing or removing the listener, or the proxy's own drain,
 *     still does
 * @param accessLogs {@code access_log}: a line for each connection, as Envoy's {@code
 *     ActiveStreamListenerBase::emitLogs}: when it ends (a TCP proxy's connection with that proxy's
 *     stream info), or when the listener closes it before a filter chain took it (no chain matched,
 *     flag {@code NR}; the listener filters timed out or the peer closed while they waited)
 */
public record ListenerConfig(
    String name,
    SocketAddr address,
    List<FilterChain> filterChains,
    Optional<FilterChain> defaultChain,
    boolean bindToPort,
    Inspection inspection,
    int bufferLimitBytes,
    boolean originalDst,
    boolean useOriginalDst,
    boolean inbound,
    boolean modifyOnlyDrain,
    List<dev.bowline.proxy.accesslog.FileAccessLog> accessLogs) {
  /** Envoy's default {@code per_connection_buffer_limit_bytes}, 1 MiB. */
  public static final int DEFAULT_BUFFER_LIMIT = 1 << 20;

  public ListenerConfig {
    filterChains = List.copyOf(filterChains);
    accessLogs = List.copyOf(accessLogs);
    if (bufferLimitBytes < 0) {
      throw new IllegalArgumentException("bufferLimitBytes: negative: " + bufferLimitBytes);
    }
  }

  /** A listener of {@code drain_type: DEFAULT} without access logs. */
  public ListenerConfig(
      String name,
      SocketAddr address,
      List<FilterChain> filterChains,
      Optional<FilterChain> defaultChain,
      boolean bindToPort,
      Inspection inspection,
      int bufferLimitBytes,
      boolean originalDst,
      boolean useOriginalDst,
      boolean inbound) {
    this(
        name,
        address,
        filterChains,
        defaultChain,
        bindToPort,
        inspection,
        bufferLimitBytes,
        originalDst,
        useOriginalDst,
        inbound,
        false,
        List.of());
  }

  /** A listener without {@code original_dst} or {@code use_original_dst}, not inbound. */
  public ListenerConfig(
      String name,
      SocketAddr address,
      List<FilterChain> filterChains,
      Optional<FilterChain> defaultChain,
      boolean bindToPort,
      Inspection inspection,
      int bufferLimitBytes) {
    this(
        name,
        address,
        filterChains,
        defaultChain,
        bindToPort,
        inspection,
        bufferLimitBytes,
        false,
        false,
        false);
  }

  /** A listener with the default buffer limit. */
  public ListenerConfig(
      String name,
      SocketAddr address,
      List<FilterChain> filterChains,
      Optional<FilterChain> defaultChain,
      boolean bindToPort,
      Inspection inspection) {
    this(name, address, filterChains, defaultChain, bindToPort, inspection, DEFAULT_BUFFER_LIMIT);
  }

  /** A listener without listener filters. */
  public ListenerConfig(
      String name,
      SocketAddr address,
      List<FilterChain> filterChains,
      Optional<FilterChain> defaultChain,
      boolean bindToPort) {
    this(name, address, filterChains, defaultChain, bindToPort, Inspection.NONE);
  }

  /**
   * The listener filters {@code envoy.filters.listener.tls_inspector} and {@code
   * envoy.filters.listener.http_inspector}, with {@code listener_filters_timeout} and {@code
   * continue_on_listener_filters_timeout}.
   */
  public record Inspection(boolean tls, boolean http, Duration timeout, boolean continueOnTimeout) {
    public static final Inspection NONE =
        new Inspection(false, false, Duration.ofSeconds(15), false);

    public boolean any() {
      return tls || http;
    }
  }

  /**
   * The chain for a plaintext connection to {@code destIp:destPort} from {@code
   * sourceIp:sourcePort}, as {@link #select(ConnectionInfo)}.
   */
  public Optional<FilterChain> select(
      String destIp, int destPort, String sourceIp, int sourcePort) {
    return select(ConnectionInfo.plain(destIp, destPort, sourceIp, sourcePort));
  }

  /**
   * The chain for connection {@code c}, as Envoy picks it: the criteria are applied in order
   * (destination port, destination IP, server name, transport protocol, application protocols,
   * source IP, source port); at each, the chains that match most specifically stay, or, if none
   * names the criterion's value, those that leave it open. No chain left: the default chain.
   */
  public Optional<FilterChain> select(ConnectionInfo c) {
    List<FilterChain> left = filterChains;
    for (FilterChainMatch.Criterion criterion : FilterChainMatch.Criterion.values()) {
      int best = -1;
      for (FilterChain fc : left) {
        best = Math.max(best, fc.match().score(criterion, c));
      }
      if (best < 0) {
        return defaultChain;
      }
      List<FilterChain> next = new ArrayList<>(left.size());
      for (FilterChain fc : left) {
        if (fc.match().score(criterion, c) == best) {
          next.add(fc);
        }
      }
      left = next;
    }
    return left.isEmpty() ? defaultChain : Optional.of(left.getFirst());
  }

  /** Whether a connection must be inspected before its chain can be chosen. */
  public boolean needsInspection() {
    if (!inspection.any()) {
      return false;
    }
    for (FilterChain fc : filterChains) {
      if (fc.match().needsInspection()) {
        return true;
      }
    }
    return false;
  }

  /** Envoy's stat name for this listener's address, e.g. {@code 127.0.0.1_8080}. */
  public String statPrefix() {
    return address.ip() + "_" + address.port();
  }
}
