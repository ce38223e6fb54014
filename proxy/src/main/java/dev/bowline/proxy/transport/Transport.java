package dev.bowline.proxy.transport;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A Netty I/O transport: the event-loop handler and the channel classes that go with it.
 *
 * <p>The default is epoll where the native library loads, NIO elsewhere. io_uring is used only when
 * asked for, because container runtimes often forbid it by seccomp; see
 * docs/decisions/0001-build-foundation.md.
 */
public enum Transport {
  IO_URING(
      "io_uring",
      IoUring::isAvailable,
      IoUringIoHandler::newFactory,
      IoUringServerSocketChannel.class,
      IoUringSocketChannel.class),
  EPOLL(
      "epoll",
      Epoll::isAvailable,
      EpollIoHandler::newFactory,
      EpollServerSocketChannel.class,
      EpollSocketChannel.class),
  NIO(
      "nio",
      () -> true,
      NioIoHandler::newFactory,
      NioServerSocketChannel.class,
      NioSocketChannel.class);

  private final String displayName;
  private final Supplier<Boolean> availability;
  private final Supplier<IoHandlerFactory> handlerFactory;
  private final Class<? extends ServerChannel> serverChannelClass;
  private final Class<? extends SocketChannel> socketChannelClass;

  Transport(
      String displayName,
      Supplier<Boolean> availability,
      Supplier<IoHandlerFactory> handlerFactory,
      Class<? extends ServerChannel> serverChannelClass,
      Class<? extends SocketChannel> socketChannelClass) {
    this.displayName = displayName;
    this.availability = availability;
    this.handlerFactory = handlerFactory;
    this.serverChannelClass = serverChannelClass;
    this.socketChannelClass = socketChannelClass;
  }

  /** The name users write in {@code --transport} and see in {@code bowline version}. */
  public String displayName() {
    return displayName;
  }

  /** Whether this transport's native part loaded on this machine. */
  public boolean isAvailable() {
    try {
      return availability.get();
    } catch (LinkageError e) {
      return false;
    }
  }

  /** Why this transport is unavailable, or empty when it is available. */
  public Optional<String> unavailabilityCause() {
    if (isAvailable()) {
      return Optional.empty();
    }
    Throwable cause =
        switch (this) {
          case IO_URING -> IoUring.unavailabilityCause();
          case EPOLL -> Epoll.unavailabilityCause();
          case NIO -> null;
        };
    return Optional.of(cause == null ? "unavailable" : String.valueOf(cause.getMessage()));
  }

  /** A new event-loop group of {@code threads} loops on this transport. */
  public MultiThreadIoEventLoopGroup newEventLoopGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, handlerFactory.get());
  }

  public Class<? extends ServerChannel> serverChannelClass() {
    return serverChannelClass;
  }

  public Class<? extends SocketChannel> socketChannelClass() {
    return socketChannelClass;
  }

  /**
   * The UDP channel class of this transport (DNS lookups); named here rather than held in a field
   * so that a proxy without DNS clusters never loads it.
   */
  public Class<? extends io.netty.channel.socket.DatagramChannel> datagramChannelClass() {
    return switch (this) {
      case IO_URING -> io.netty.channel.uring.IoUringDatagramChannel.class;
      case EPOLL -> io.netty.channel.epoll.EpollDatagramChannel.class;
      case NIO -> io.netty.channel.socket.nio.NioDatagramChannel.class;
    };
  }

  /** The default transport for this machine: epoll where it loads, else NIO. */
  public static Transport detect() {
    return EPOLL.isAvailable() ? EPOLL : NIO;
  }

  /**
   * The transport named by {@code name} ({@code io_uring}, {@code epoll}, {@code nio}, or {@code
   * auto} for {@link #detect()}).
   *
   * @throws IllegalArgumentException if the name is unknown or that transport cannot run here
   */
  public static Transport select(String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT);
    if (wanted.equals("auto")) {
      return detect();
    }
    for (Transport t : values()) {
      if (t.displayName.equals(wanted)) {
        if (!t.isAvailable()) {
          throw new IllegalArgumentException(
              "transport "
                  + wanted
                  + " is not available here: "
                  + t.unavailabilityCause().orElse("unknown"));
        }
        return t;
      }
    }
    throw new IllegalArgumentException(
        "unknown transport '" + name + "': expected one of auto, io_uring, epoll, nio");
  }
}
