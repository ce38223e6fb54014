package dev.bowline.controlplane.xds.gen.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.AndFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ResponseFlagFilter;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.SubstitutionFormatString;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.file.v3.FileAccessLog;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code envoy.access_loggers.file} for a connection manager, a TCP proxy and a listener, in
 * istiod's shapes and formats ({@code pilot/pkg/networking/core/accesslog.go}).
 */
public final class AccessLogs {
  /** istiod's default text format ({@code EnvoyTextLogFormat}). */
  public static final String ISTIO_TEXT_FORMAT =
      "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
          + "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% "
          + "%CONNECTION_TERMINATION_DETAILS% \"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" "
          + "%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
          + "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
          + "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% "
          + "%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
          + "%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n";

  /** istiod's default JSON keys ({@code EnvoyJSONLogFormatIstio}). */
  public static final Map<String, String> ISTIO_JSON_FORMAT = istioJson();

  /**
   * The filter istiod puts on a listener's own access logs ({@code listenerAccessLogFilter}): only
   * connections no filter chain took ({@code NR}) are logged there, the rest by their filters.
   */
  public static final AccessLogFilter NO_CHAIN =
      AccessLogFilter.newBuilder()
          .setResponseFlagFilter(ResponseFlagFilter.newBuilder().addFlags("NR"))
          .build();

  private static final String TCP_PROXY_TYPE =
      "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";

  /** The name istiod gives the CEL access-log filter. */
  public static final String CEL_FILTER = "envoy.access_loggers.extension_filters.cel";

  private AccessLogs() {}

  private static Map<String, String> istioJson() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("start_time", "%START_TIME%");
    m.put("route_name", "%ROUTE_NAME%");
    m.put("method", "%REQ(:METHOD)%");
    m.put("path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%");
    m.put("protocol", "%PROTOCOL%");
    m.put("response_code", "%RESPONSE_CODE%");
    m.put("response_flags", "%RESPONSE_FLAGS%");
    m.put("response_code_details", "%RESPONSE_CODE_DETAILS%");
    m.put("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%");
    m.put("bytes_received", "%BYTES_RECEIVED%");
    m.put("bytes_sent", "%BYTES_SENT%");
    m.put("duration", "%DURATION%");
    m.put("upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%");
    m.put("x_forwarded_for", "%REQ(X-FORWARDED-FOR)%");
    m.put("user_agent", "%REQ(USER-AGENT)%");
    m.put("request_id", "%REQ(X-REQUEST-ID)%");
    m.put("authority", "%REQ(:AUTHORITY)%");
    m.put("upstream_host", "%UPSTREAM_HOST%");
    m.put("upstream_cluster", "%UPSTREAM_CLUSTER%");
    m.put("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%");
    m.put("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%");
    m.put("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%");
    m.put("requested_server_name", "%REQUESTED_SERVER_NAME%");
    m.put("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%");
    return java.util.Collections.unmodifiableMap(m);
  }

  /** The {@code access_log} entries for {@code sinks}. */
  public static List<AccessLog> of(List<AccessLogSink> sinks) {
    List<AccessLog> out = new ArrayList<>();
    for (AccessLogSink s : sinks) {
      SubstitutionFormatString.Builder format = SubstitutionFormatString.newBuilder();
      if (s.json()) {
        Struct.Builder keys = Struct.newBuilder();
        (s.jsonLabels().isEmpty() ? ISTIO_JSON_FORMAT : s.jsonLabels())
            .forEach((k, v) -> keys.putFields(k, Value.newBuilder().setStringValue(v).build()));
        format.setJsonFormat(keys);
      } else {
        String text = s.textFormat().isEmpty() ? ISTIO_TEXT_FORMAT : s.textFormat();
        format.setTextFormatSource(
            DataSource.newBuilder().setInlineString(text.endsWith("\n") ? text : text + "\n"));
      }
      AccessLog.Builder log = AccessLog.newBuilder();
      if (!s.filter().isEmpty()) {
        // istiod: Envoy's CEL extension filter
        log.setFilter(
            io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter.newBuilder()
                .setExtensionFilter(
                    io.envoyproxy.envoy.config.accesslog.v3.ExtensionFilter.newBuilder()
                        .setName(CEL_FILTER)
                        .setTypedConfig(
                            Any.pack(
                                io.envoyproxy.envoy.extensions.access_loggers.filters.cel.v3
                                    .ExpressionFilter.newBuilder()
                                    .setExpression(s.filter())
                                    .build()))));
      }
      out.add(
          log.setName("envoy.access_loggers.file")
              .setTypedConfig(
                  Any.pack(
                      FileAccessLog.newBuilder().setPath(s.path()).setLogFormat(format).build()))
              .build());
    }
    return out;
  }

  /**
   * The listener-level form of {@code logs}, as istiod's {@code setListenerAccessLog}: each log
   * with {@link #NO_CHAIN} as its filter, and-ed before a Telemetry filter it already has.
   */
  public static List<AccessLog> listenerLogs(List<AccessLog> logs) {
    List<AccessLog> out = new ArrayList<>(logs.size());
    for (AccessLog l : logs) {
      AccessLogFilter f =
          l.hasFilter()
              ? AccessLogFilter.newBuilder()
                  .setAndFilter(
                      AndFilter.newBuilder().addFilters(NO_CHAIN).addFilters(l.getFilter()))
                  .build()
              : NO_CHAIN;
      out.add(l.toBuilder().setFilter(f).build());
    }
    return out;
  }

  /**
   * {@code listener} with its side's access logs where istiod puts them besides the connection
   * managers: on each {@code tcp_proxy} of its filter chains ({@code setTCPAccessLog}: TCP
   * services, passthrough and blackhole chains), and on the listener itself for connections no
   * chain matched ({@link #listenerLogs}; none when {@code listenerLog} is false, MeshConfig {@code
   * disableEnvoyListenerLog}). No logs: {@code listener} unchanged.
   */
  public static Listener onListener(Listener listener, List<AccessLog> logs, boolean listenerLog) {
    if (logs.isEmpty()) {
      return listener;
    }
    Listener.Builder l = listener.toBuilder();
    for (FilterChain.Builder c : l.getFilterChainsBuilderList()) {
      onTcpProxies(c, logs);
    }
    if (l.hasDefaultFilterChain()) {
      onTcpProxies(l.getDefaultFilterChainBuilder(), logs);
    }
    if (listenerLog) {
      l.addAllAccessLog(listenerLogs(logs));
    }
    return l.build();
  }

  private static void onTcpProxies(FilterChain.Builder chain, List<AccessLog> logs) {
    for (Filter.Builder f : chain.getFiltersBuilderList()) {
      if (f.getTypedConfig().getTypeUrl().equals(TCP_PROXY_TYPE)) {
        try {
          TcpProxy tcp = f.getTypedConfig().unpack(TcpProxy.class);
          f.setTypedConfig(Any.pack(tcp.toBuilder().addAllAccessLog(logs).build()));
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("a tcp_proxy this generator packed", e);
        }
      }
    }
  }
}
