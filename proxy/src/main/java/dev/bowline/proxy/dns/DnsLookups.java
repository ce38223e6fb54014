package dev.bowline.proxy.dns;

import dev.bowline.proxy.config.ClusterConfig.DnsResolver;
import dev.bowline.proxy.config.ClusterConfig.LookupFamily;
import dev.bowline.proxy.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsCache;
import io.netty.resolver.dns.DnsCacheEntry;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * DNS clusters' lookups, as Envoy's c-ares resolver makes them: netty-resolver-dns's {@link
 * DnsNameResolver} on one of the proxy's event loops (non-blocking: no thread per lookup), {@code
 * /etc/hosts} first, then the name servers, search domains and {@code ndots} of {@code
 * /etc/resolv.conf} unless the resolver names its own servers. Nothing is cached: each refresh asks
 * the name servers again (the point of {@code respect_dns_ttl} is to ask again when the answer
 * expires), and each answer's TTL is reported with its addresses.
 *
 * <p>This class, and with it netty-resolver-dns and netty-codec-dns, is loaded only when a DNS
 * cluster exists (decision 0036: a static proxy's start loads no class it does not use).
 *
 * <p>The config thread calls {@link #resolve} and {@link #retain}; the answers complete on the
 * resolver's event loop.
 */
public final class DnsLookups implements AutoCloseable {
  private final EventLoopGroup group;
  private final Transport transport;

  /** One Netty resolver per resolver config and lookup family (config thread only). */
  private final Map<Key, Resolver> resolvers = new HashMap<>();

  private record Key(DnsResolver config, LookupFamily family) {}

  /** A Netty resolver and the TTLs its answers carried (event loop only). */
  private record Resolver(DnsNameResolver netty, TtlRecorder ttls) {}

  /**
   * An answer: {@code addresses} of the cluster's family in the resolver's order (empty: none of
   * that family), with {@code ttlSeconds} the TTL of each (0 when it had none: {@code /etc/hosts},
   * an IP address).
   */
  public record Answer(List<InetAddress> addresses, List<Long> ttlSeconds) {}

  public DnsLookups(EventLoopGroup group, Transport transport) {
    this.group = group;
    this.transport = transport;
  }

  /**
   * Resolves {@code host} with {@code config}: completes with the addresses {@code family} takes
   * (AUTO: IPv6 if the name has any, else IPv4, ...), or exceptionally when the lookup failed. Call
   * on the config thread.
   */
  public CompletableFuture<Answer> resolve(DnsResolver config, LookupFamily family, String host) {
    Resolver r = resolvers.computeIfAbsent(new Key(config, family), k -> build(config, family));
    CompletableFuture<Answer> out = new CompletableFuture<>();
    r.netty()
        .resolveAll(host)
        .addListener(
            (io.netty.util.concurrent.Future<List<InetAddress>> f) -> {
              if (!f.isSuccess()) {
                out.completeExceptionally(f.cause());
                return;
              }
              // on the resolver's loop, right after its cache() calls for this answer
              Map<InetAddress, Long> seen = new HashMap<>();
              for (InetAddress a : f.getNow()) {
                seen.put(a, r.ttls().take(a));
              }
              List<InetAddress> picked = family.pick(f.getNow().toArray(InetAddress[]::new));
              List<Long> ttls = new ArrayList<>(picked.size());
              for (InetAddress a : picked) {
                ttls.add(seen.getOrDefault(a, 0L));
              }
              out.complete(new Answer(picked, ttls));
            });
    return out;
  }

  /** Closes the resolvers of configs no DNS cluster uses any more. Config thread. */
  public void retain(Set<DnsResolver> used) {
    var it = resolvers.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (!used.contains(e.getKey().config())) {
        e.getValue().netty().close();
        it.remove();
      }
    }
  }

  @Override
  public void close() {
    resolvers.values().forEach(r -> r.netty().close());
    resolvers.clear();
  }

  private Resolver build(DnsResolver config, LookupFamily family) {
    EventLoop loop = (EventLoop) group.next();
    TtlRecorder ttls = new TtlRecorder();
    DnsNameResolverBuilder b =
        new DnsNameResolverBuilder(loop)
            .datagramChannelType(transport.datagramChannelClass())
            // truncated answers are asked again over TCP, as c-ares does; with
            // use_tcp_for_dns_lookups timed-out ones too (Netty has no TCP-only mode)
            .socketChannelType(transport.socketChannelClass(), config.tcp())
            .resolvedAddressTypes(addressTypes(family))
            .resolveCache(ttls)
            .cnameCache(NoopDnsCnameCache.INSTANCE)
            .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
            .completeOncePreferredResolved(false);
    if (!config.servers().isEmpty()
        && !(config.serversAsFallback() && systemHasNameServer(Path.of("/etc/resolv.conf")))) {
      b.nameServerProvider(new SequentialDnsServerAddressStreamProvider(config.servers()));
    } else {
      b.nameServerProvider(DnsServerAddressStreamProviders.platformDefault());
    }
    if (config.noSearch()) {
      b.searchDomains(List.of());
    }
    return new Resolver(b.build(), ttls);
  }

  /**
   * What Netty asks for each of Envoy's families. The answer is then filtered by {@link
   * LookupFamily#pick}: AUTO and V4_PREFERRED ask both families and take the preferred one when it
   * answered (c-ares asks the second only when the first had none: the same addresses, one query
   * more here); ALL takes both, IPv4 first.
   */
  private static ResolvedAddressTypes addressTypes(LookupFamily family) {
    return switch (family) {
      case V4_ONLY -> ResolvedAddressTypes.IPV4_ONLY;
      case V6_ONLY -> ResolvedAddressTypes.IPV6_ONLY;
      case AUTO -> ResolvedAddressTypes.IPV6_PREFERRED;
      case V4_PREFERRED, ALL -> ResolvedAddressTypes.IPV4_PREFERRED;
    };
  }

  /**
   * Whether {@code resolvConf} names a name server: c-ares' test for {@code
   * use_resolvers_as_fallback} (its only server is then its own default, 127.0.0.1).
   */
  static boolean systemHasNameServer(Path resolvConf) {
    try {
      for (String line : Files.readAllLines(resolvConf)) {
        String t = line.strip();
        if (t.startsWith("nameserver") && t.length() > 10 && Character.isWhitespace(t.charAt(10))) {
          return true;
        }
      }
      return false;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The resolver's cache, caching nothing: it keeps the TTL of each address of the last answers
   * until the lookup that asked takes it (both on the resolver's loop, in that order). Keyed by
   * address: two names answered with one address in the same instant share the later TTL.
   */
  private static final class TtlRecorder implements DnsCache {
    private final Map<InetAddress, Long> ttls = new HashMap<>();

    long take(InetAddress a) {
      Long t = ttls.remove(a);
      return t == null ? 0 : t;
    }

    @Override
    public void clear() {
      ttls.clear();
    }

    @Override
    public boolean clear(String hostname) {
      return false;
    }

    @Override
    public @Nullable List<? extends DnsCacheEntry> get(
        String hostname, DnsRecord @Nullable [] additionals) {
      return null; // never cached: every lookup asks
    }

    @Override
    public @Nullable DnsCacheEntry cache(
        String hostname,
        DnsRecord @Nullable [] additionals,
        InetAddress address,
        long originalTtl,
        EventLoop loop) {
      if (ttls.size() > 4096) {
        ttls.clear(); // answers nobody took (a cancelled lookup): never grows without bound
      }
      ttls.merge(address, originalTtl, Math::min);
      return null;
    }

    @Override
    public @Nullable DnsCacheEntry cache(
        String hostname, DnsRecord @Nullable [] additionals, Throwable cause, EventLoop loop) {
      return null;
    }
  }
}
