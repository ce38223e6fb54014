package dev.bowline.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small authoritative DNS server over UDP for tests (the edge of the system: the proxy's resolver
 * asks it over a real socket). Each name answers A records of its current addresses with its TTL,
 * or NXDOMAIN when it has none; AAAA queries get an empty answer. It counts the A queries per name.
 */
final class TestDnsServer implements AutoCloseable {
  private record Answer(List<String> ips, long ttl) {}

  private final Map<String, Answer> answers = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> queries = new ConcurrentHashMap<>();
  private final MultiThreadIoEventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;

  TestDnsServer(String ip) {
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioDatagramChannel.class)
            .handler(
                new io.netty.channel.ChannelInitializer<NioDatagramChannel>() {
                  @Override
                  protected void initChannel(NioDatagramChannel ch) {
                    ch.pipeline()
                        .addLast(new DatagramDnsQueryDecoder())
                        .addLast(new DatagramDnsResponseEncoder())
                        .addLast(new Handler());
                  }
                })
            .bind(new InetSocketAddress(ip, 0))
            .syncUninterruptibly()
            .channel();
  }

  /** The port it answers on. */
  int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** From now on {@code name} answers {@code ips} with {@code ttl} seconds; none: NXDOMAIN. */
  TestDnsServer answer(String name, long ttl, String... ips) {
    answers.put(name.toLowerCase(Locale.ROOT), new Answer(List.of(ips), ttl));
    return this;
  }

  /** How many A queries {@code name} got. */
  int queries(String name) {
    var n = queries.get(name.toLowerCase(Locale.ROOT));
    return n == null ? 0 : n.get();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private final class Handler extends SimpleChannelInboundHandler<DatagramDnsQuery> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramDnsQuery query) {
      DnsQuestion q = query.recordAt(DnsSection.QUESTION);
      String name = q.name().toLowerCase(Locale.ROOT);
      if (name.endsWith(".")) {
        name = name.substring(0, name.length() - 1);
      }
      DatagramDnsResponse r =
          new DatagramDnsResponse(query.recipient(), query.sender(), query.id());
      r.setAuthoritativeAnswer(true);
      r.setRecursionAvailable(true);
      r.addRecord(DnsSection.QUESTION, q);
      Answer a = answers.get(name);
      if (a == null || a.ips().isEmpty()) {
        r.setCode(DnsResponseCode.NXDOMAIN);
      }
      if (q.type() == DnsRecordType.A) {
        queries.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        if (a != null) {
          for (String ip : a.ips()) {
            byte[] bytes = InetAddress.ofLiteral(ip).getAddress();
            r.addRecord(
                DnsSection.ANSWER,
                new DefaultDnsRawRecord(
                    q.name(), DnsRecordType.A, a.ttl(), Unpooled.wrappedBuffer(bytes)));
          }
        }
      }
      ctx.writeAndFlush(r);
    }
  }
}
