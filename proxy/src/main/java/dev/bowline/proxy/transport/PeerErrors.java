package dev.bowline.proxy.transport;

import io.netty.channel.ChannelHandlerContext;

/**
 * What a downstream handler that is, for a while, the last of its pipeline (a sniffer or inspector
 * waiting for the first bytes, the TCP proxy) does with an exception: a socket error (the peer
 * reset the connection, a broken pipe) closes the connection with a debug line, as the HTTP
 * handlers do; anything else goes on to the pipeline's tail, where Netty logs it as the bug it is.
 * Without this, every client that resets a connection at that stage made Netty log a warning ("an
 * exceptionCaught() event ... reached at the tail of the pipeline"): one line per connection, at a
 * client's will.
 */
public final class PeerErrors {
  private static final System.Logger LOG = System.getLogger(PeerErrors.class.getName());

  private PeerErrors() {}

  /** Handles {@code cause}, caught by the handler of {@code ctx}. */
  public static void caught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof java.io.IOException) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "event=downstream_socket_error channel={0} error={1}",
          ctx.channel(),
          cause.toString());
      ctx.close();
      return;
    }
    ctx.fireExceptionCaught(cause);
  }
}
