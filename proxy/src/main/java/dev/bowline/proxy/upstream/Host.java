package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.SocketAddr;
import io.netty.channel.Channel;
import java.util.ArrayDeque;

/** One endpoint as seen from one event loop: its idle HTTP/1.1 connections, HTTP/2 pool, load. */
public final class Host {
  final SocketAddr address;
  final int weight;
  final int priority;
  final String locality;

  /** Its hostname ({@link dev.bowline.proxy.config.Endpoints.Endpoint#hostname}), may be empty. */
  final String hostname;

  final ArrayDeque<Channel> idle = new ArrayDeque<>();
  int active;

  /** Connections from this loop to this host, open or opening. */
  int connections;

  /**
   * Those connections (of this host's pools for ALPN and server names too), kept only for a cluster
   * with {@code close_connections_on_host_health_failure}; null otherwise.
   */
  java.util.@org.jspecify.annotations.Nullable Set<Channel> open;

  /** The cluster-wide state: circuit-breaker counts, outlier detection. */
  final ClusterState state;

  /** This endpoint's outlier-detection state, shared by all loops. */
  final HostHealth health;

  /** Requests waiting for a connection to this host (the cluster is at max_connections). */
  final ArrayDeque<Worker.Pending> pending = new ArrayDeque<>();

  /** The HTTP/2 connections to this host from this loop; null until the first HTTP/2 request. */
  @org.jspecify.annotations.Nullable H2Pool h2;

  int currentWeight; // smooth weighted round robin state

  /** The TLS towards this host (by the cluster's transport socket matches), null for plaintext. */
  final dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable UpstreamTls tls;

  Host(
      SocketAddr address,
      int weight,
      int priority,
      String locality,
      String hostname,
      ClusterState state,
      dev.bowline.proxy.tls.@org.jspecify.annotations.Nullable UpstreamTls tls) {
    this.address = address;
    this.weight = weight;
    this.priority = priority;
    this.locality = locality;
    this.hostname = hostname;
    this.state = state;
    this.health = state.health(address);
    this.tls = tls;
    this.lb = this;
  }

  /** The pool of {@code lb} for connections that offer {@code tls}'s ALPN instead. */
  private Host(Host lb, dev.bowline.proxy.tls.UpstreamTls tls) {
    this.address = lb.address;
    this.weight = lb.weight;
    this.priority = lb.priority;
    this.locality = lb.locality;
    this.hostname = lb.hostname;
    this.state = lb.state;
    this.health = lb.health;
    this.tls = tls;
    this.lb = lb.lb;
  }

  /**
   * The host the load balancer sees: this one, or the one whose ALPN-override pool this is (it
   * counts the requests of all its pools).
   */
  final Host lb;

  /** This host's pools for ALPN overrides, by the offered list; null until one is used. */
  private java.util.@org.jspecify.annotations.Nullable Map<java.util.List<String>, Host> byAlpn;

  /**
   * The pool whose connections offer {@code alpn} instead of the cluster's ALPN: this host when
   * {@code alpn} is empty, equal to the cluster's, or the connection is plaintext (Envoy keys its
   * connection pools on the override only for TLS, where it changes the handshake).
   */
  Host forAlpn(java.util.List<String> alpn) {
    var t = tls;
    if (alpn.isEmpty() || t == null || alpn.equals(t.common().alpn())) {
      return this;
    }
    if (byAlpn == null) {
      byAlpn = new java.util.HashMap<>(4);
    }
    return byAlpn.computeIfAbsent(
        alpn,
        a -> {
          var c = t.common();
          return new Host(
              this,
              new dev.bowline.proxy.tls.UpstreamTls(
                  new dev.bowline.proxy.tls.CommonTls(
                      c.certificates(), c.trust(), c.sanMatchers(), a, c.params()),
                  t.sni()));
        });
  }

  /** This host's pools for {@code auto_sni} server names; null until one is used. */
  private java.util.@org.jspecify.annotations.Nullable Map<String, Host> byServerName;

  /**
   * The pool whose TLS connections send the SNI {@code serverName} ({@code auto_sni}) and, with
   * {@code checkSan}, accept only a certificate with that DNS name ({@code auto_san_validation},
   * replacing the cluster's SAN matchers as Envoy's override does): Envoy keys its pools on both.
   * This host when the connection is plaintext. At most 256 names are kept per host; past that the
   * map starts again (connections of dropped pools finish on their own).
   */
  Host forServerName(String serverName, boolean checkSan) {
    var t = tls;
    if (t == null) {
      return this;
    }
    if (byServerName == null || byServerName.size() >= 256) {
      byServerName = new java.util.HashMap<>(4);
    }
    return byServerName.computeIfAbsent(
        checkSan ? serverName : serverName + '\0',
        k -> {
          var c = t.common();
          var sans =
              checkSan
                  ? java.util.List.of(
                      new dev.bowline.proxy.tls.SanMatcher(
                          dev.bowline.proxy.tls.SanMatcher.Type.DNS,
                          new dev.bowline.proxy.config.StringMatch.Exact(serverName, true)))
                  : c.sanMatchers();
          return new Host(
              this,
              new dev.bowline.proxy.tls.UpstreamTls(
                  new dev.bowline.proxy.tls.CommonTls(
                      c.certificates(), c.trust(), sans, c.alpn(), c.params()),
                  serverName));
        });
  }

  public SocketAddr address() {
    return address;
  }

  // Envoy's per-host stats (the admin's /clusters), counted on the balancer's host (lb) by this
  // loop only: plain fields, no atomics; the admin sums the loops' values, read racily (a stale
  // count at worst). rq_active is lb.active, cx_active lb.cxActive.
  long cxTotal;
  long cxConnectFail;
  int cxActive;
  long rqTotal;
  long rqSuccess;
  long rqError;
  long rqTimeout;

  /** A connection to this host is being opened (Envoy's {@code cx_total}, {@code cx_active}). */
  void connectionOpened() {
    lb.cxTotal++;
    lb.cxActive++;
  }

  /** A connection to this host closed. */
  void connectionClosed() {
    lb.cxActive--;
  }

  /** A connection to this host failed to connect ({@code cx_connect_fail}). */
  void connectFailed() {
    lb.cxConnectFail++;
  }

  /**
   * A final response with {@code status} came: Envoy's router counts {@code rq_error} for a 5xx,
   * {@code rq_success} otherwise.
   */
  void responded(int status) {
    if (status >= 500) {
      lb.rqError++;
    } else {
      lb.rqSuccess++;
    }
  }

  /** The request's timeout fired ({@code rq_timeout}; {@code rq_error} before any response). */
  void timedOut(boolean beforeResponse) {
    lb.rqTimeout++;
    if (beforeResponse) {
      lb.rqError++;
    }
  }

  /** The request was reset before its response ended ({@code rq_error}). */
  void failed() {
    lb.rqError++;
  }

  /** Takes the counts of {@code old}, the host this one replaces (its endpoint changed). */
  void countsOf(Host old) {
    cxTotal = old.cxTotal;
    cxConnectFail = old.cxConnectFail;
    rqTotal = old.rqTotal;
    rqSuccess = old.rqSuccess;
    rqError = old.rqError;
    rqTimeout = old.rqTimeout;
  }

  /** A request starts on this host (counts toward {@code max_requests}). */
  void begin() {
    active++;
    if (lb != this) {
      lb.active++;
    }
    lb.rqTotal++;
    state.requests.incrementAndGet();
  }

  /** A request on this host ended. */
  void end() {
    active--;
    if (lb != this) {
      lb.active--;
    }
    state.requests.decrementAndGet();
  }

  void closeIdle() {
    for (Channel c : idle) {
      c.close();
    }
    idle.clear();
    H2Pool h = h2;
    if (h != null) {
      h.drain();
    }
    if (byAlpn != null) {
      byAlpn.values().forEach(Host::closeIdle);
    }
  }
}
