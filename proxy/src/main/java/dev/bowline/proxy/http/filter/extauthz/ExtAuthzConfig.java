package dev.bowline.proxy.http.filter.extauthz;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.config.StringMatch;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.rbac.Matcher;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The ext_authz filter's config, compiled once.
 *
 * @param service where and how to ask
 * @param failureModeAllow whether a failed check lets the request through
 * @param statusOnError the status of the local reply to a failed check (Envoy's default 403)
 * @param enabledBy when present, only requests whose dynamic metadata matches are checked ({@code
 *     filter_enabled_metadata}); the others pass unchecked
 * @param stats the filter's counters
 * @param withBody when present, the check carries the request body ({@code with_request_body})
 */
record ExtAuthzConfig(
    Service service,
    boolean failureModeAllow,
    int statusOnError,
    Optional<MetadataMatch> enabledBy,
    ExtAuthzStats stats,
    Optional<WithBody> withBody) {

  /**
   * Envoy's {@code BufferSettings}: the request is held until its body is in, and the check carries
   * its first {@code maxBytes}.
   *
   * @param maxBytes the most body bytes buffered and sent ({@code max_request_bytes}, positive)
   * @param allowPartial a longer body is checked with its first {@code maxBytes} ({@code
   *     allow_partial_message}); without it, it is answered 413
   * @param packAsBytes the gRPC check carries it as {@code raw_body} bytes, not the UTF-8 {@code
   *     body} string ({@code pack_as_bytes})
   */
  record WithBody(int maxBytes, boolean allowPartial, boolean packAsBytes) {
    WithBody {
      if (maxBytes <= 0) {
        throw new IllegalArgumentException("maxBytes: must be positive: " + maxBytes);
      }
    }
  }

  /**
   * Envoy's {@code ExtAuthzPerRoute} ({@code typed_per_filter_config} of a route or virtual host):
   * the most specific one applies.
   */
  sealed interface PerRoute {
    /** {@code disabled: true}: requests of the route are not checked (nor counted). */
    record Disabled() implements PerRoute {}

    /**
     * {@code check_settings}.
     *
     * @param contextExtensions sent in the gRPC check's {@code attributes.context_extensions}
     * @param disableBodyBuffering the check carries no body and the request is not held for it
     * @param withBody when present, replaces the filter's {@code with_request_body}
     */
    record Check(
        Map<String, String> contextExtensions,
        boolean disableBodyBuffering,
        Optional<WithBody> withBody)
        implements PerRoute {
      public Check {
        contextExtensions = Map.copyOf(contextExtensions);
      }
    }
  }

  /** The authorizer and the shape of the check. */
  sealed interface Service {
    /** The cluster of the authorizer. */
    String cluster();

    /** How long a check may take. */
    Duration timeout();
  }

  /**
   * An HTTP authorizer ({@code http_service}): the request's method, {@code pathPrefix} + path, its
   * {@code host}, {@code authorization} and the {@code allowedHeaders}, plus {@code headersToAdd};
   * 200 allows, 5xx is an error, anything else denies with that answer.
   *
   * @param allowedHeaders request headers sent along besides Envoy's defaults
   * @param upstreamHeaders authorizer headers copied onto the allowed request
   * @param clientHeaders authorizer headers passed to the client on a denial; empty: all but {@code
   *     host} (Envoy)
   * @param clientHeadersOnSuccess authorizer headers added to the response of an allowed request
   */
  record HttpCheck(
      String cluster,
      Duration timeout,
      String pathPrefix,
      List<StringMatch> allowedHeaders,
      List<Map.Entry<String, String>> headersToAdd,
      List<StringMatch> upstreamHeaders,
      Optional<List<StringMatch>> clientHeaders,
      List<StringMatch> clientHeadersOnSuccess)
      implements Service {
    HttpCheck {
      allowedHeaders = List.copyOf(allowedHeaders);
      headersToAdd = List.copyOf(headersToAdd);
      upstreamHeaders = List.copyOf(upstreamHeaders);
      clientHeadersOnSuccess = List.copyOf(clientHeadersOnSuccess);
    }
  }

  /**
   * A gRPC authorizer ({@code grpc_service.envoy_grpc}): {@code
   * envoy.service.auth.v3.Authorization/Check} with {@code :authority} {@code authority}.
   *
   * @param allowedHeaders when not empty, only these request headers go into the check
   */
  record GrpcCheck(
      String cluster, String authority, Duration timeout, List<StringMatch> allowedHeaders)
      implements Service {
    GrpcCheck {
      allowedHeaders = List.copyOf(allowedHeaders);
    }
  }

  /** Envoy's {@code MetadataMatcher} over the stream's dynamic metadata. */
  record MetadataMatch(String filter, List<String> path, Matcher.ValueMatch value, boolean invert) {
    MetadataMatch {
      path = List.copyOf(path);
    }

    boolean matches(StreamInfo info) {
      return value.matches(lookup(info.dynamicMetadata(filter))) != invert;
    }

    private @Nullable Value lookup(@Nullable Struct struct) {
      Value v = null;
      for (String key : path) {
        if (struct == null) {
          return null;
        }
        v = struct.getFieldsMap().get(key);
        if (v == null) {
          return null;
        }
        struct = v.hasStructValue() ? v.getStructValue() : null;
      }
      return v;
    }
  }

  /** Whether a header name matches one of {@code matchers}. */
  static boolean anyMatch(List<StringMatch> matchers, String name) {
    for (StringMatch m : matchers) {
      if (m.matches(name)) {
        return true;
      }
    }
    return false;
  }
}
