package dev.bowline.bench.telemetry;

import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.http.filter.metadataexchange.MetadataExchangePlugin;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.jspecify.annotations.Nullable;

/**
 * A finished stream as the connection manager shows it to observing filters: fixed values, so only
 * the filter's own work is measured.
 */
final class FakeStream implements StreamInfo {
  final PeerInfo peer;
  final int code;
  dev.bowline.proxy.tls.@Nullable TlsPeer tls;
  int flags;
  final HttpHeaders request =
      new DefaultHttpHeaders()
          .add("host", "forecast.weather:3002")
          .add("user-agent", "wrk")
          .add("x-forwarded-proto", "http")
          .add("x-request-id", "5b2a3c1e-8d4f-4a6b-9c7d-0e1f2a3b4c5d");
  final HttpHeaders response = new DefaultHttpHeaders().add("content-length", "512");

  FakeStream(PeerInfo peer, int code) {
    this.peer = peer;
    this.code = code;
  }

  @Override
  public long startEpochMillis() {
    return 0;
  }

  @Override
  public long startNanos() {
    return 0;
  }

  @Override
  public long durationNanos() {
    return 3_400_000;
  }

  @Override
  public long responseStartNanos() {
    return 3_000_000;
  }

  @Override
  public int responseCode() {
    return code;
  }

  @Override
  public int responseFlags() {
    return flags;
  }

  @Override
  public long bytesReceived() {
    return 0;
  }

  @Override
  public long bytesSent() {
    return 512;
  }

  @Override
  public String protocol() {
    return "HTTP/1.1";
  }

  @Override
  public HttpHeaders requestHeaders() {
    return request;
  }

  @Override
  public String method() {
    return "GET";
  }

  @Override
  public String path() {
    return "/weather?city=beijing";
  }

  @Override
  public @Nullable HttpHeaders responseHeaders() {
    return response;
  }

  @Override
  public @Nullable HttpHeaders responseTrailers() {
    return null;
  }

  @Override
  public @Nullable String upstreamCluster() {
    return "outbound|3002|v1|forecast.weather.svc.cluster.local";
  }

  @Override
  public @Nullable String upstreamHost() {
    return "127.0.0.3:3002";
  }

  @Override
  public @Nullable String routeName() {
    return "default";
  }

  @Override
  public String downstreamRemoteAddress() {
    return "127.0.0.2:40000";
  }

  @Override
  public String downstreamLocalAddress() {
    return "127.0.0.2:15001";
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> @Nullable T get(StateKey<T> key) {
    return key == MetadataExchangePlugin.UPSTREAM_PEER ? (T) peer : null;
  }

  @Override
  public <T> void put(StateKey<T> key, T value) {}

  @Override
  public dev.bowline.proxy.tls.@Nullable TlsPeer upstreamTlsPeer() {
    return tls;
  }
}
