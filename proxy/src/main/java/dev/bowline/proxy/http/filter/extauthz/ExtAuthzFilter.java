package dev.bowline.proxy.http.filter.extauthz;

import dev.bowline.proxy.config.StringMatch;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.ResponseFlag;
import dev.bowline.proxy.http.filter.StreamContext;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One stream's ext_authz, as Envoy's filter: a request the filter is enabled for is held while the
 * authorizer is asked (on the stream's event loop, never blocking it); allowed, it goes on with the
 * authorizer's upstream headers; denied, the client gets the authorizer's status, body and headers;
 * a failed check (no answer, timeout, 5xx, a gRPC error) lets it through with {@code
 * failure_mode_allow}, else answers {@code status_on_error}. Denials and failures record {@code
 * UAEX}.
 */
final class ExtAuthzFilter implements HttpFilter {
  private static final System.Logger LOG = System.getLogger(ExtAuthzFilter.class.getName());

  /** The largest authorizer answer read. */
  static final int MAX_RESPONSE_BYTES = 1 << 20;

  /** Headers of an authorizer's answer never passed on (framing and hop-by-hop). */
  private static final Set<String> NOT_PASSED =
      Set.of(
          "host",
          "content-length",
          "transfer-encoding",
          "connection",
          "keep-alive",
          "upgrade",
          "proxy-connection",
          "te");

  /** Envoy's header telling the authorizer whether the body it got was cut at the limit. */
  static final String PARTIAL_BODY = "x-envoy-auth-partial-body";

  /** Headers Envoy always passes to the client of a denial when allowed_client_headers is set. */
  private static final Set<String> ALWAYS_TO_CLIENT = Set.of("www-authenticate", "location");

  private final ExtAuthzConfig config;
  private final StreamInfo info;

  /** Headers to set on the response on its way down (the authorizer's). */
  private List<Map.Entry<String, String>> responseHeaders = List.of();

  /** While the check is being started: a synchronous answer is only recorded. */
  private boolean starting;

  private @Nullable Runnable syncResult;

  ExtAuthzFilter(ExtAuthzConfig config, StreamInfo info) {
    this.config = config;
    this.info = info;
  }

  @Override
  public FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    // the route's ExtAuthzPerRoute first, as Envoy: a disabled route is neither checked nor counted
    ExtAuthzConfig.PerRoute.Check settings = null;
    switch (routeConfig) {
      case ExtAuthzConfig.PerRoute.Disabled d -> {
        return FilterStatus.CONTINUE;
      }
      case ExtAuthzConfig.PerRoute.Check c -> settings = c;
      case null, default -> {}
    }
    if (config.enabledBy().isPresent() && !config.enabledBy().get().matches(info)) {
      config.stats().disabled().inc();
      return FilterStatus.CONTINUE;
    }
    if (settings != null) {
      contextExtensions = settings.contextExtensions();
      var all = stream.perFilterConfigs();
      if (all.size() > 1 && all.getFirst() instanceof ExtAuthzConfig.PerRoute.Check host) {
        // Envoy: context_extensions merge, keys of the more specific config override
        Map<String, String> merged = new java.util.HashMap<>(host.contextExtensions());
        merged.putAll(settings.contextExtensions());
        contextExtensions = merged;
      }
    }
    var withBody = config.withBody();
    if (settings != null) {
      withBody =
          settings.disableBodyBuffering()
              ? Optional.empty()
              : settings.withBody().or(() -> config.withBody());
    }
    if (withBody.isPresent() && !stream.done()) {
      // Envoy's with_request_body: hold the request until its body (or the limit) is in
      var b = withBody.get();
      this.request = request;
      this.packAsBytes = b.packAsBytes();
      stream.bufferRequestBody(b.maxBytes(), b.allowPartial());
      return FilterStatus.STOP_ITERATION;
    }
    return check(request, stream, null, false);
  }

  /** The gRPC check's context_extensions: the virtual host's and the route's, merged. */
  private Map<String, String> contextExtensions = Map.of();

  /** Whether the gRPC check carries the body as bytes. */
  private boolean packAsBytes;

  /** The request being held for its body. */
  private @Nullable HttpRequest request;

  @Override
  public FilterStatus onRequestBody(
      io.netty.buffer.ByteBuf body, boolean partial, StreamContext stream) {
    HttpRequest r = java.util.Objects.requireNonNull(request);
    request = null;
    // a request that ended at its head has no body to send (Envoy: no decoding buffer)
    return check(r, stream, body.isReadable() || partial ? body : null, partial);
  }

  /**
   * Sends the check of {@code request} (with {@code body} when not null, cut at the limit when
   * {@code partial}); STOP_ITERATION until the answer, CONTINUE when it came at once and allowed.
   */
  private FilterStatus check(
      HttpRequest request,
      StreamContext stream,
      io.netty.buffer.@Nullable ByteBuf body,
      boolean partial) {
    StreamContext.HttpCallback callback =
        switch (config.service()) {
          case ExtAuthzConfig.HttpCheck h -> httpCallback(h, request, stream);
          case ExtAuthzConfig.GrpcCheck g -> grpcCallback(request, stream);
        };
    FullHttpRequest check =
        switch (config.service()) {
          case ExtAuthzConfig.HttpCheck h -> httpCheck(h, request, body, partial);
          case ExtAuthzConfig.GrpcCheck g ->
              GrpcCheckCodec.request(
                  g,
                  request,
                  info,
                  body == null ? null : new GrpcCheckCodec.Body(body, partial, packAsBytes),
                  contextExtensions);
        };
    starting = true;
    stream.httpCall(
        config.service().cluster(),
        check,
        config.service().timeout(),
        MAX_RESPONSE_BYTES,
        callback);
    starting = false;
    Runnable sync = syncResult;
    if (sync != null) {
      syncResult = null;
      sync.run();
      return stream.done() ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
    }
    return FilterStatus.STOP_ITERATION;
  }

  @Override
  public void onResponseHeaders(HttpResponse response) {
    for (var h : responseHeaders) {
      response.headers().set(h.getKey(), h.getValue());
    }
  }

  /** Runs {@code decision} now, or after the call returns when it came back synchronously. */
  private void decide(StreamContext stream, Runnable decision) {
    if (starting) {
      syncResult = decision;
      return;
    }
    if (stream.done()) {
      return; // the client went away meanwhile
    }
    decision.run();
    if (!stream.done()) {
      stream.continueDecoding();
    }
  }

  private void allow(
      HttpRequest request,
      List<Map.Entry<String, String>> upstreamSet,
      List<Map.Entry<String, String>> upstreamAppend,
      List<String> upstreamRemove,
      List<Map.Entry<String, String>> toClient) {
    config.stats().ok().inc();
    HttpHeaders h = request.headers();
    for (String name : upstreamRemove) {
      h.remove(name);
    }
    for (var e : upstreamSet) {
      h.set(e.getKey(), e.getValue());
    }
    for (var e : upstreamAppend) {
      h.add(e.getKey(), e.getValue());
    }
    responseHeaders = toClient;
  }

  private void deny(
      StreamContext stream, int status, String body, List<Map.Entry<String, String>> toClient) {
    config.stats().denied().inc();
    responseHeaders = toClient;
    stream.sendLocalReply(status, body, ResponseFlag.UAEX);
  }

  private void error(StreamContext stream, String reason) {
    config.stats().error().inc();
    LOG.log(
        Level.DEBUG,
        "event=ext_authz_error cluster={0} reason=\"{1}\" failure_mode_allow={2}",
        config.service().cluster(),
        reason,
        config.failureModeAllow());
    if (config.failureModeAllow()) {
      config.stats().failureModeAllowed().inc();
      return;
    }
    stream.sendLocalReply(config.statusOnError(), "", ResponseFlag.UAEX);
  }

  // --- HTTP service ---

  /**
   * Envoy's check request: the request's method, the path under {@code path_prefix}, its {@code
   * host}, {@code authorization} and the allowed headers, then {@code headers_to_add}; the body
   * (with {@code x-envoy-auth-partial-body} when allowed) when {@code body} is not null.
   */
  static FullHttpRequest httpCheck(
      ExtAuthzConfig.HttpCheck h,
      HttpRequest request,
      io.netty.buffer.@Nullable ByteBuf body,
      boolean partial) {
    FullHttpRequest r =
        new DefaultFullHttpRequest(
            HttpVersion.HTTP_1_1,
            request.method(),
            h.pathPrefix() + request.uri(),
            body == null ? io.netty.buffer.Unpooled.EMPTY_BUFFER : body.retainedDuplicate());
    HttpHeaders out = r.headers();
    for (var e : request.headers()) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (name.equals(PARTIAL_BODY) || name.equals("content-length")) {
        continue; // a client's own partial-body header never reaches the authorizer (Envoy)
      }
      if (name.equals("host")
          || name.equals("authorization")
          || (!NOT_PASSED.contains(name) && ExtAuthzConfig.anyMatch(h.allowedHeaders(), name))) {
        out.add(name, e.getValue());
      }
    }
    if (body != null && ExtAuthzConfig.anyMatch(h.allowedHeaders(), PARTIAL_BODY)) {
      out.set(PARTIAL_BODY, partial ? "true" : "false");
    }
    for (var e : h.headersToAdd()) {
      out.set(e.getKey(), e.getValue());
    }
    out.set("content-length", String.valueOf(r.content().readableBytes()));
    return r;
  }

  private StreamContext.HttpCallback httpCallback(
      ExtAuthzConfig.HttpCheck h, HttpRequest request, StreamContext stream) {
    return new StreamContext.HttpCallback() {
      @Override
      public void onResponse(int status, byte[] body) {
        throw new AssertionError("the four-argument onResponse is called");
      }

      @Override
      public void onResponse(int status, HttpHeaders headers, byte[] body, HttpHeaders trailers) {
        if (status >= 500) {
          decide(stream, () -> error(stream, "authorizer answered " + status));
        } else if (status == 200) {
          decide(
              stream,
              () ->
                  allow(
                      request,
                      pick(headers, h.upstreamHeaders()),
                      List.of(),
                      List.of(),
                      pick(headers, h.clientHeadersOnSuccess())));
        } else {
          List<Map.Entry<String, String>> toClient =
              h.clientHeaders().isPresent()
                  ? pickForClient(headers, h.clientHeaders().get())
                  : pickAll(headers);
          String text = new String(body, StandardCharsets.UTF_8);
          decide(stream, () -> deny(stream, status, text, toClient));
        }
      }

      @Override
      public void onFailure(String reason) {
        decide(stream, () -> error(stream, reason));
      }
    };
  }

  private static List<Map.Entry<String, String>> pick(HttpHeaders h, List<StringMatch> allowed) {
    if (allowed.isEmpty()) {
      return List.of();
    }
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (var e : h) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!NOT_PASSED.contains(name) && ExtAuthzConfig.anyMatch(allowed, name)) {
        out.add(Map.entry(name, e.getValue()));
      }
    }
    return out;
  }

  private static List<Map.Entry<String, String>> pickForClient(
      HttpHeaders h, List<StringMatch> allowed) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (var e : h) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!NOT_PASSED.contains(name)
          && (ALWAYS_TO_CLIENT.contains(name) || ExtAuthzConfig.anyMatch(allowed, name))) {
        out.add(Map.entry(name, e.getValue()));
      }
    }
    return out;
  }

  private static List<Map.Entry<String, String>> pickAll(HttpHeaders h) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (var e : h) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!NOT_PASSED.contains(name)) {
        out.add(Map.entry(name, e.getValue()));
      }
    }
    return out;
  }

  // --- gRPC service ---

  private StreamContext.HttpCallback grpcCallback(HttpRequest request, StreamContext stream) {
    return new StreamContext.HttpCallback() {
      @Override
      public void onResponse(int status, byte[] body) {
        throw new AssertionError("the four-argument onResponse is called");
      }

      @Override
      public void onResponse(int status, HttpHeaders headers, byte[] body, HttpHeaders trailers) {
        GrpcCheckCodec.Outcome o = GrpcCheckCodec.response(status, headers, body, trailers);
        switch (o) {
          case GrpcCheckCodec.Outcome.Failed f -> decide(stream, () -> error(stream, f.reason()));
          case GrpcCheckCodec.Outcome.Ok ok ->
              decide(
                  stream,
                  () ->
                      allow(
                          request,
                          ok.upstreamSet(),
                          ok.upstreamAppend(),
                          ok.upstreamRemove(),
                          ok.toClient()));
          case GrpcCheckCodec.Outcome.Denied d ->
              decide(stream, () -> deny(stream, d.status(), d.body(), d.headers()));
        }
      }

      @Override
      public void onFailure(String reason) {
        decide(stream, () -> error(stream, reason));
      }
    };
  }
}
