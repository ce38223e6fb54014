package dev.bowline.proxy.listener;

import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.RawUnixChannelOption;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The {@code envoy.filters.listener.original_dst} listener filter: the destination a connection had
 * before iptables' {@code REDIRECT} (or {@code DNAT}) sent it to this listener, read once per
 * accepted connection with {@code getsockopt(SOL_IP, SO_ORIGINAL_DST)} for IPv4 and {@code
 * getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST)} for IPv6, as Envoy's {@code
 * Network::Utility::getOriginalDst}. Only the epoll transport can ask the kernel (Netty's {@link
 * RawUnixChannelOption}); on io_uring and NIO, or when the socket has no conntrack entry, the
 * connection keeps its local address, as Envoy keeps it where {@code getOriginalDst} finds none.
 */
final class OriginalDst {
  private static final int SOL_IP = 0;
  private static final int SOL_IPV6 = 41;
  private static final int SO_ORIGINAL_DST = 80; // IP6T_SO_ORIGINAL_DST is 80 too

  // struct sockaddr_in (16 bytes) and struct sockaddr_in6 (28 bytes)
  private static final RawUnixChannelOption V4 =
      new RawUnixChannelOption("SO_ORIGINAL_DST", SOL_IP, SO_ORIGINAL_DST, 16);
  private static final RawUnixChannelOption V6 =
      new RawUnixChannelOption("IP6T_SO_ORIGINAL_DST", SOL_IPV6, SO_ORIGINAL_DST, 28);

  private OriginalDst() {}

  /** The original destination of accepted connection {@code ch}, null if none can be read. */
  static @Nullable InetSocketAddress read(Channel ch) {
    if (!(ch instanceof EpollSocketChannel)
        || !(ch.localAddress() instanceof InetSocketAddress local)) {
      return null;
    }
    boolean v4 = local.getAddress() instanceof Inet4Address;
    try {
      ByteBuffer b = ch.config().getOption(v4 ? V4 : V6);
      if (b == null) {
        return null;
      }
      int port = ((b.get(2) & 0xff) << 8) | (b.get(3) & 0xff);
      byte[] ip = new byte[v4 ? 4 : 16];
      b.get(v4 ? 4 : 8, ip);
      return new InetSocketAddress(InetAddress.getByAddress(ip), port);
    } catch (io.netty.channel.ChannelException | IndexOutOfBoundsException e) {
      return null; // no conntrack entry (ENOENT) or not an IP socket: the local address stays
    } catch (UnknownHostException e) {
      return null; // cannot happen for 4 or 16 bytes
    }
  }
}
