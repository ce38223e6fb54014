package dev.bowline.proxy.accesslog;

import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.tls.TlsPeer;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's CEL access-log filter ({@code envoy.extensions.access_loggers.filters.cel.v3
 * .ExpressionFilter}): a stream is logged when the expression is {@code true}; an evaluation error
 * or any other value does not log, as Envoy. The expression is parsed and type-checked once, when
 * the config is built. Envoy's attribute vocabulary, the common subset: {@code request.*} (headers
 * — lower-case names —, method, path, url_path, host, scheme, protocol, id, size, duration, time),
 * {@code response.*} (code, flags, headers, trailers, size), {@code connection.*} (mtls,
 * requested_server_name, uri_san_peer_certificate, uri_san_local_certificate, tls_version), {@code
 * upstream.*} (address, cluster — not an Envoy attribute name but {@code xds.cluster_name} is
 * unreachable without the xds prefix), {@code source.*}/{@code destination.*} (address), {@code
 * xds.cluster_name} and {@code xds.route_name}. Values are built only for the variables the
 * expression reads.
 */
public final class CelFilter implements Predicate<StreamInfo> {
  private static final Cel CEL =
      CelFactory.standardCelBuilder()
          .addVar("request", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("response", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("connection", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("upstream", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("source", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("destination", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .addVar("xds", MapType.create(SimpleType.STRING, SimpleType.DYN))
          .build();

  private final String expression;
  private final CelRuntime.Program program;

  private CelFilter(String expression, CelRuntime.Program program) {
    this.expression = expression;
    this.program = program;
  }

  /**
   * The filter of {@code expression}.
   *
   * @throws IllegalArgumentException with CEL's message when it does not parse or type-check
   */
  public static CelFilter compile(String expression) {
    if (expression.isBlank()) {
      throw new IllegalArgumentException("expression: must not be empty");
    }
    try {
      var ast = CEL.compile(expression).getAst();
      return new CelFilter(expression, CEL.createProgram(ast));
    } catch (CelValidationException e) {
      throw new IllegalArgumentException(
          "expression: " + e.getMessage().replace('\n', ' ').strip(), e);
    } catch (CelEvaluationException e) {
      throw new IllegalArgumentException("expression: " + e.getMessage(), e);
    }
  }

  /** The expression's text. */
  public String expression() {
    return expression;
  }

  @Override
  public boolean test(StreamInfo info) {
    try {
      return Boolean.TRUE.equals(program.eval(name -> Optional.ofNullable(variable(info, name))));
    } catch (CelEvaluationException | RuntimeException e) {
      return false; // Envoy: an expression that cannot be evaluated does not log
    }
  }

  private static @Nullable Map<String, Object> variable(StreamInfo info, String name) {
    Map<String, Object> m = new HashMap<>();
    switch (name) {
      case "request" -> {
        HttpHeaders h = info.requestHeaders();
        m.put("headers", headers(h));
        m.put("method", info.method());
        String path = info.path();
        m.put("path", path);
        int q = path.indexOf('?');
        m.put("url_path", q < 0 ? path : path.substring(0, q));
        String host = h.get("host");
        m.put("host", host == null ? "" : host);
        String scheme = h.get("x-forwarded-proto");
        m.put("scheme", scheme == null ? "http" : scheme);
        m.put("protocol", info.protocol());
        String id = h.get("x-request-id");
        m.put("id", id == null ? "" : id);
        m.put("size", info.bytesReceived());
        m.put("total_size", info.bytesReceived());
        m.put("duration", java.time.Duration.ofNanos(info.durationNanos()));
        m.put("time", java.time.Instant.ofEpochMilli(info.startEpochMillis()));
        String ua = h.get("user-agent");
        m.put("useragent", ua == null ? "" : ua);
      }
      case "response" -> {
        m.put("code", (long) info.responseCode());
        m.put("flags", (long) info.responseFlags());
        m.put("headers", headers(info.responseHeaders()));
        m.put("trailers", headers(info.responseTrailers()));
        m.put("size", info.bytesSent());
        m.put("total_size", info.bytesSent());
      }
      case "connection" -> {
        TlsPeer tls = info.downstreamTlsPeer();
        m.put("mtls", tls != null && !tls.chain().isEmpty());
        m.put("requested_server_name", info.requestedServerName());
        if (tls != null) {
          m.put("uri_san_peer_certificate", tls.principal());
          m.put(
              "uri_san_local_certificate",
              tls.localUriSans().isEmpty() ? "" : tls.localUriSans().getFirst());
          m.put("tls_version", tls.protocol());
        }
      }
      case "upstream" -> {
        String host = info.upstreamHost();
        if (host != null) {
          m.put("address", host);
        }
        String cluster = info.upstreamCluster();
        if (cluster != null) {
          m.put("cluster", cluster);
        }
      }
      case "source" -> m.put("address", info.downstreamRemoteAddress());
      case "destination" -> m.put("address", info.downstreamLocalAddress());
      case "xds" -> {
        String cluster = info.upstreamCluster();
        if (cluster != null) {
          m.put("cluster_name", cluster);
        }
        String route = info.routeName();
        if (route != null) {
          m.put("route_name", route);
        }
      }
      default -> {
        return null;
      }
    }
    return m;
  }

  private static Map<String, String> headers(@Nullable HttpHeaders h) {
    if (h == null || h.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, String> e : h) {
      out.putIfAbsent(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue());
    }
    return out;
  }

  @Override
  public String toString() {
    return "CelFilter[" + expression + "]";
  }
}
