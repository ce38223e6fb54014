package dev.bowline.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.bootstrap.BootstrapLoader;
import dev.bowline.proxy.config.ClusterConfig;
import dev.bowline.proxy.config.Endpoints;
import dev.bowline.proxy.stats.Stats;
import dev.bowline.proxy.transport.Transport;
import dev.bowline.proxy.xds.ClusterParser;
import dev.bowline.proxy.xds.EndpointParser;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One worker with one cluster of one host, as the proxy has them, for upstream connections on
 * {@link EmbeddedChannel}s: the fuzz targets put the proxy's real upstream handlers ({@link
 * UpstreamConnection}, {@link H2Connection}, {@link H2Stream}) on a channel whose peer is the
 * fuzzer. Its allocator records every buffer it hands out, so a target can check that all of them
 * were released: deterministic, where Netty's leak detector reports only what the garbage collector
 * happened to collect.
 */
final class UpstreamFixture {
  final Stats stats = new Stats();
  final Worker worker;
  final ClusterHosts cluster;
  final Host host;
  final TrackingAllocator alloc = new TrackingAllocator();

  /** A cluster with {@code options} (YAML at the level of its name; empty for none). */
  UpstreamFixture(String options) {
    worker =
        new Worker(
            new EmbeddedChannel().eventLoop(), Transport.NIO, new SplittableRandom(1), stats);
    String yaml =
        """
        static_resources:
          clusters:
          - name: fuzz
        %s
            load_assignment:
              cluster_name: fuzz
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]
        """
            .formatted(options.indent(4).stripTrailing());
    try {
      Cluster proto =
          new BootstrapLoader().parse("fuzz.yaml", yaml).getStaticResources().getClusters(0);
      ClusterConfig config = new ClusterParser().parse(proto);
      Endpoints endpoints = new EndpointParser().parse(proto.getLoadAssignment());
      cluster = worker.hosts(config, endpoints);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    host = cluster.hosts[0];
  }

  /** A new connection (active) that allocates from {@link #alloc}. */
  EmbeddedChannel channel() {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAllocator(alloc);
    return ch;
  }

  /** Requests in flight on the host and in the cluster's circuit breaker: 0 when all ended. */
  void assertNothingInFlight() {
    assertThat(host.active).as("requests the host counts as in flight").isZero();
    assertThat(cluster.state.requests.get()).as("requests the circuit breaker counts").isZero();
  }

  /**
   * Records the exceptions that reach it and passes them on: the upstream handlers after it close
   * the connection or stream on any exception, so without it a bug would pass unseen.
   */
  static final class Exceptions extends ChannelInboundHandlerAdapter {
    final List<Throwable> seen;

    Exceptions(List<Throwable> seen) {
      this.seen = seen;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      seen.add(cause);
      ctx.fireExceptionCaught(cause);
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  /** Unpooled heap buffers, each one remembered until {@link #assertAllReleased}. */
  static final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> handedOut = new ArrayList<>();

    // with -Dbowline.fuzz.allocationSites=true, where each buffer was allocated (slow: for
    // reproducing a finding, not for fuzzing)
    private final java.util.Map<ByteBuf, Throwable> sites =
        Boolean.getBoolean("bowline.fuzz.allocationSites")
            ? new java.util.IdentityHashMap<>()
            : null;

    private ByteBuf track(ByteBuf b) {
      handedOut.add(b);
      if (sites != null) {
        sites.put(b, new Throwable("allocated here"));
      }
      return b;
    }

    TrackingAllocator() {
      super(false); // heap buffers, with Netty's leak detection as well
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    /** A copy of {@code bytes} from this allocator (what a socket read would hand the pipeline). */
    ByteBuf copy(byte[] bytes, int from, int length) {
      return heapBuffer(length).writeBytes(bytes, from, length);
    }

    /** Fails if a buffer handed out since the last call is still referenced; then forgets them. */
    void assertAllReleased() {
      List<String> held = new ArrayList<>();
      for (ByteBuf b : handedOut) {
        if (b.refCnt() != 0) {
          if (sites != null) {
            java.io.StringWriter w = new java.io.StringWriter();
            sites.get(b).printStackTrace(new java.io.PrintWriter(w));
            System.err.println("still referenced: " + w);
          }
          held.add(
              b.refCnt()
                  + "x "
                  + io.netty.buffer.ByteBufUtil.hexDump(
                      b, 0, Math.min(64, Math.max(b.writerIndex(), 0))));
        }
      }
      int n = handedOut.size();
      handedOut.clear();
      if (sites != null) {
        sites.clear();
      }
      assertThat(held).as("buffers still referenced, of %d allocated", n).isEmpty();
    }
  }
}
