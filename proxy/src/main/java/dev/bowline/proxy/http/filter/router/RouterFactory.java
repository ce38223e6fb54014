package dev.bowline.proxy.http.filter.router;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bowline.proxy.config.Anys;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.HttpFilterFactory;
import dev.bowline.proxy.http.filter.StreamContext;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.netty.handler.codec.http.HttpRequest;
import org.jspecify.annotations.Nullable;

/**
 * Factory of the router. The forwarding itself is the connection manager's terminal step (see
 * {@code dev.bowline.proxy.http.HttpStream}); the per-stream filter does nothing of its own.
 */
public final class RouterFactory implements HttpFilterFactory<RouterConfig> {
  public static final String TYPE_URL =
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

  private static final HttpFilter NOTHING =
      new HttpFilter() {
        @Override
        public FilterStatus onRequestHeaders(
            HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
          return FilterStatus.CONTINUE; // the stream forwards after the last filter
        }
      };

  @Override
  public String typeUrl() {
    return TYPE_URL;
  }

  @Override
  public RouterConfig parse(Any typedConfig) throws InvalidProtocolBufferException {
    Router r = Anys.unpack(typedConfig, Router.getDescriptor(), Router.parser());
    return new RouterConfig(r.getSuppressEnvoyHeaders());
  }

  @Override
  public HttpFilter create(RouterConfig config) {
    return NOTHING;
  }

  @Override
  public boolean terminal() {
    return true;
  }
}
