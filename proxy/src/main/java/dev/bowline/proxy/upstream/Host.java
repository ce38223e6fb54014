package dev.bowline.proxy.upstream;

import dev.bowline.proxy.config.SocketAddr;
import io.netty.channel.Channel;
import java.util.ArrayDeque;

/** One endpoint as seen from one event loop: its idle HTTP/1.1 connections and load. */
public final class Host {
  final SocketAddr address;
  final int weight;
  final ArrayDeque<Channel> idle = new ArrayDeque<>();
  int active;
  int currentWeight; // smooth weighted round robin state

  Host(SocketAddr address, int weight) {
    this.address = address;
    this.weight = weight;
  }

  public SocketAddr address() {
    return address;
  }

  void closeIdle() {
    for (Channel c : idle) {
      c.close();
    }
    idle.clear();
  }
}
