package dev.bowline.proxy.admin;

import dev.bowline.proxy.config.SocketAddr;
import dev.bowline.proxy.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Envoy's admin endpoints over HTTP/1.1, those of {@link AdminCommands}' table: a path matches a
 * command exactly (the query aside), an unknown one is a 404 listing the commands, and a command
 * that changes the server's state answers anything but POST with 405, as Envoy's {@code
 * AdminImpl::makeRequest}. Runs on its own event loop group, off the proxy's workers.
 */
public final class AdminServer implements AutoCloseable {
  private final Channel server;

  private AdminServer(Channel server) {
    this.server = server;
  }

  /**
   * Binds {@code address} on {@code group}; waits for the bind. A failed bind (the port in use) is
   * a {@link dev.bowline.proxy.bootstrap.BootstrapException} naming the field and the address, as
   * Envoy's start-up error names the admin address it cannot bind.
   */
  public static AdminServer start(
      SocketAddr address, EventLoopGroup group, Transport transport, AdminView view) {
    var f =
        new ServerBootstrap()
            .group(group)
            .channel(transport.serverChannelClass())
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(64 * 1024))
                        .addLast(new Handler(view));
                  }
                })
            .bind(address.toInet())
            .awaitUninterruptibly();
    if (!f.isSuccess()) {
      throw new dev.bowline.proxy.bootstrap.BootstrapException(
          "admin.address: cannot bind " + address + ": " + f.cause().getMessage(), f.cause());
    }
    return new AdminServer(f.channel());
  }

  /** Where the admin server listens. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.localAddress();
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly();
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final AdminView view;

    Handler(AdminView view) {
      this.view = view;
    }

    /**
     * {@code /stats} as Envoy's {@code StatsParams}: {@code filter} (a regular expression a name
     * must contain a match of), {@code type} ({@code All}, {@code Counters}, {@code Gauges}, {@code
     * Histograms}, {@code TextReadouts}), {@code format} ({@code text}, {@code json}, {@code
     * prometheus}), {@code usedonly} (the stats ever written), each error a 400 with Envoy's text.
     */
    private FullHttpResponse stats(Map<String, List<String>> params) {
      java.util.function.Predicate<String> take;
      try {
        take = filter(params);
      } catch (java.util.regex.PatternSyntaxException e) {
        return text(HttpResponseStatus.BAD_REQUEST, "Invalid re2 regex");
      }
      boolean usedOnly = params.containsKey("usedonly");
      List<String> types = params.get("type");
      String type = types == null || types.isEmpty() ? "All" : types.getFirst();
      if (!dev.bowline.proxy.stats.Stats.statsType(type)) {
        return text(HttpResponseStatus.BAD_REQUEST, "invalid &type= param");
      }
      String format = first(params, "format");
      if (format == null || format.equals("text")) {
        return text(HttpResponseStatus.OK, view.stats(take, type, false, usedOnly));
      } else if (format.equals("json")) {
        return json(view.stats(take, type, true, usedOnly));
      } else if (format.equals("prometheus")) {
        return text(
            HttpResponseStatus.OK,
            view.prometheus(first(params, "filter") == null ? null : take, usedOnly));
      }
      return text(
          HttpResponseStatus.BAD_REQUEST,
          "usage: /stats?format=(html|active-html|json|prometheus|text)\n\n");
    }

    /**
     * Envoy's {@code filter} parameter: a name must contain a match of the regular expression; all
     * names without one (or with an empty one).
     *
     * @throws java.util.regex.PatternSyntaxException for a bad expression
     */
    private static java.util.function.Predicate<String> filter(Map<String, List<String>> params) {
      List<String> filter = params.get("filter");
      if (filter != null && !filter.isEmpty() && !filter.getFirst().isEmpty()) {
        return java.util.regex.Pattern.compile(filter.getFirst()).asPredicate();
      }
      return name -> true;
    }

    /**
     * {@code /stats/prometheus} with Envoy's {@code usedonly} and {@code filter} ({@code
     * text_readouts} is accepted: Bowline has no text readouts).
     */
    private FullHttpResponse prometheus(Map<String, List<String>> params) {
      java.util.function.Predicate<String> take;
      try {
        take = first(params, "filter") == null ? null : filter(params);
      } catch (java.util.regex.PatternSyntaxException e) {
        return text(HttpResponseStatus.BAD_REQUEST, "Invalid re2 regex");
      }
      return text(HttpResponseStatus.OK, view.prometheus(take, params.containsKey("usedonly")));
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
      QueryStringDecoder q = new QueryStringDecoder(req.uri());
      String path = q.path();
      Runnable after = null;
      FullHttpResponse resp;
      try {
        AdminCommands.Command command = AdminCommands.find(path);
        if (command == null) {
          resp = text(HttpResponseStatus.NOT_FOUND, "invalid path. " + AdminCommands.help());
        } else if (command.mutates() && !req.method().equals(HttpMethod.POST)) {
          // Envoy's AdminImpl::makeRequest: no newline after the sentence
          resp =
              text(
                  HttpResponseStatus.METHOD_NOT_ALLOWED,
                  "Method " + req.method().name() + " not allowed, POST required.");
        } else {
          Map<String, List<String>> params = q.parameters();
          resp =
              switch (path) {
                case "/" -> html(AdminCommands.homePage());
                case "/help" -> text(HttpResponseStatus.OK, AdminCommands.help());
                case "/ready" -> {
                  String state = view.state();
                  yield text(
                      state.equals("LIVE")
                          ? HttpResponseStatus.OK
                          : HttpResponseStatus.SERVICE_UNAVAILABLE,
                      state + "\n");
                }
                case "/config_dump" -> {
                  var r =
                      view.configDump(
                          params.containsKey("include_eds"),
                          given(params, "resource"),
                          given(params, "mask"),
                          given(params, "name_regex"));
                  yield body(HttpResponseStatus.valueOf(r.status()), r.body(), r.contentType());
                }
                case "/clusters" ->
                    "json".equals(first(params, "format"))
                        ? json(view.clustersJson())
                        : text(HttpResponseStatus.OK, view.clusters());
                case "/listeners" ->
                    "json".equals(first(params, "format"))
                        ? json(view.listenersJson())
                        : text(HttpResponseStatus.OK, view.listeners());
                case "/stats" -> stats(params);
                case "/reset_counters" -> {
                  view.resetCounters();
                  yield text(HttpResponseStatus.OK, "OK\n");
                }
                case "/stats/prometheus" -> prometheus(params);
                case "/server_info" -> json(view.serverInfo());
                case "/certs" -> json(view.certs());
                case "/memory" -> json(view.memory());
                case "/runtime" -> json(view.runtime());
                case "/init_dump" -> json(view.initDump(given(params, "mask")));
                case "/logging" -> {
                  var r = ComponentLogs.admin(params);
                  yield text(
                      r.ok() ? HttpResponseStatus.OK : HttpResponseStatus.BAD_REQUEST, r.body());
                }
                case "/healthcheck/fail" -> {
                  view.failHealthCheck(true);
                  yield text(HttpResponseStatus.OK, "OK\n");
                }
                case "/healthcheck/ok" -> {
                  view.failHealthCheck(false);
                  yield text(HttpResponseStatus.OK, "OK\n");
                }
                case "/reopen_logs" -> {
                  view.reopenLogs();
                  yield text(HttpResponseStatus.OK, "OK\n");
                }
                case "/drain_listeners" -> {
                  view.drainListeners(
                      params.containsKey("inboundonly"),
                      params.containsKey("graceful"),
                      params.containsKey("skip_exit"));
                  yield text(HttpResponseStatus.OK, "OK\n");
                }
                case "/quitquitquit" -> {
                  after = view::quit;
                  yield text(HttpResponseStatus.OK, "OK\n");
                }
                default -> throw new IllegalStateException("no handler for " + path);
              };
        }
      } catch (RuntimeException e) {
        resp = text(HttpResponseStatus.INTERNAL_SERVER_ERROR, e + "\n");
      }
      boolean keepAlive = HttpUtil.isKeepAlive(req) && after == null;
      HttpUtil.setKeepAlive(resp, keepAlive);
      Runnable then = after;
      ctx.writeAndFlush(resp)
          .addListener(
              f -> {
                if (!keepAlive) {
                  ctx.close();
                }
                if (then != null) {
                  then.run();
                }
              });
    }

    /** Envoy's {@code Utility::queryParam}: the first value of {@code name}, null when empty. */
    private static @org.jspecify.annotations.Nullable String first(
        Map<String, List<String>> params, String name) {
      List<String> values = params.get(name);
      return values == null || values.isEmpty() || values.getFirst().isEmpty()
          ? null
          : values.getFirst();
    }

    /**
     * Envoy's {@code getFirstValue}: the first value of {@code name}, empty too; null if absent.
     */
    private static @org.jspecify.annotations.Nullable String given(
        Map<String, List<String>> params, String name) {
      List<String> values = params.get(name);
      return values == null ? null : values.isEmpty() ? "" : values.getFirst();
    }

    private static FullHttpResponse html(String body) {
      return body(HttpResponseStatus.OK, body, "text/html; charset=UTF-8");
    }

    private static FullHttpResponse text(HttpResponseStatus status, String body) {
      return body(status, body, "text/plain; charset=UTF-8");
    }

    private static FullHttpResponse json(String body) {
      return body(HttpResponseStatus.OK, body, "application/json");
    }

    private static FullHttpResponse body(HttpResponseStatus status, String body, String type) {
      var r =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, status, Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
      r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
      r.headers().set(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
      return r;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
