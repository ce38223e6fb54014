package dev.bowline.proxy.http.filter.rbac;

import com.google.protobuf.Struct;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.rbac.RbacInput;
import dev.bowline.proxy.tls.TlsPeer;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** What RBAC sees of one HTTP stream: its request head and its connection. */
final class StreamInput implements RbacInput {
  private static final byte[] NONE = new byte[0];

  private final StreamInfo info;
  private final HttpRequest request;

  StreamInput(StreamInfo info, HttpRequest request) {
    this.info = info;
    this.request = request;
  }

  @Override
  public @Nullable String header(String name) {
    switch (name) {
      case ":method" -> {
        return request.method().name();
      }
      case ":path" -> {
        return request.uri();
      }
      case ":authority" -> {
        return request.headers().get(HttpHeaderNames.HOST);
      }
      case ":scheme" -> {
        return info.downstreamTlsPeer() != null ? "https" : "http";
      }
      default -> {
        List<String> all = request.headers().getAll(name);
        if (all.isEmpty()) {
          return null;
        }
        return all.size() == 1 ? all.getFirst() : String.join(",", all);
      }
    }
  }

  @Override
  public String urlPath() {
    String uri = request.uri();
    int end = uri.length();
    int q = uri.indexOf('?');
    if (q >= 0) {
      end = q;
    }
    int f = uri.indexOf('#');
    if (f >= 0 && f < end) {
      end = f;
    }
    return end == uri.length() ? uri : uri.substring(0, end);
  }

  @Override
  public byte[] destinationIp() {
    InetSocketAddress a = info.downstreamLocal();
    return a == null ? NONE : a.getAddress().getAddress();
  }

  @Override
  public int destinationPort() {
    InetSocketAddress a = info.downstreamLocal();
    return a == null ? 0 : a.getPort();
  }

  @Override
  public byte[] directRemoteIp() {
    InetSocketAddress a = info.downstreamDirectRemote();
    return a == null ? NONE : a.getAddress().getAddress();
  }

  @Override
  public byte[] remoteIp() {
    var a = info.downstreamRemoteIp();
    return a == null ? NONE : a.getAddress();
  }

  @Override
  public @Nullable TlsPeer tlsPeer() {
    return info.downstreamTlsPeer();
  }

  @Override
  public String requestedServerName() {
    return info.requestedServerName();
  }

  @Override
  public @Nullable Struct dynamicMetadata(String filter) {
    return info.dynamicMetadata(filter);
  }
}
