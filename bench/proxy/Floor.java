import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;

/**
 * The footprint floor for bench/proxy/run.sh (decision 0036): the least an HTTP/1.1 reverse proxy
 * on Netty and HotSpot needs. One event loop; per downstream connection one upstream connection
 * to the backend; Netty's HTTP codecs on both sides, messages passed through untouched. No
 * config, no routing, no stats: what is left is the JVM and Netty.
 *
 * <p>{@code java Floor LISTEN_IP:PORT BACKEND_IP:PORT}
 */
public final class Floor {
  public static void main(String[] args) throws Exception {
    InetSocketAddress listen = address(args[0]);
    InetSocketAddress backend = address(args[1]);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    new ServerBootstrap()
        .group(group)
        .channel(EpollServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel down) {
                down.pipeline().addLast(new HttpServerCodec(), new Relay(down, backend));
              }
            })
        .bind(listen)
        .sync();
    Thread.currentThread().join();
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(
        hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  /** Downstream to upstream and back, message by message. */
  private static final class Relay extends ChannelInboundHandlerAdapter {
    private final Channel down;
    private final InetSocketAddress backend;
    private Channel up;

    Relay(Channel down, InetSocketAddress backend) {
      this.down = down;
      this.backend = backend;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      new Bootstrap()
          .group(down.eventLoop())
          .channel(EpollSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(
              new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel c) {
                  c.pipeline()
                      .addLast(
                          new HttpClientCodec(),
                          new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext x, Object msg) {
                              down.write(msg);
                            }

                            @Override
                            public void channelReadComplete(ChannelHandlerContext x) {
                              down.flush();
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext x) {
                              down.close();
                            }
                          });
                }
              })
          .connect(backend)
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (f.isSuccess()) {
                      up = f.channel();
                      down.config().setAutoRead(true);
                    } else {
                      down.close();
                    }
                  });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      up.write(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      up.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (up != null) {
        up.close();
      }
    }
  }
}
