package dev.bowline.proxy.http.filter.istioauthn;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamContext;
import dev.bowline.proxy.http.filter.StreamInfo;
import io.netty.handler.codec.http.HttpRequest;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Writes Istio's authentication attributes for one stream: from the mTLS peer {@code
 * source.principal} (the SPIFFE id without {@code spiffe://}) and {@code source.namespace}; from
 * the first origin issuer whose payload {@code jwt_authn} emitted, {@code request.auth.principal}
 * ({@code iss/sub}), {@code request.auth.audiences} (the first {@code aud}), {@code
 * request.auth.presenter} ({@code azp}) and {@code request.auth.claims} (each claim as a list of
 * values; objects stay structs). Never rejects.
 */
final class IstioAuthnFilter implements HttpFilter {
  static final String JWT_AUTHN = "envoy.filters.http.jwt_authn";

  private final IstioAuthnFactory.Config config;
  private final StreamInfo info;

  IstioAuthnFilter(IstioAuthnFactory.Config config, StreamInfo info) {
    this.config = config;
    this.info = info;
  }

  @Override
  public FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    Struct.Builder out = Struct.newBuilder();
    info.downstreamTls()
        .ifPresent(
            peer -> {
              String id = peer.principal();
              if (id.startsWith("spiffe://")) {
                id = id.substring("spiffe://".length());
              }
              if (!id.isEmpty()) {
                out.putFields("source.principal", string(id));
                int ns = id.indexOf("/ns/");
                if (ns >= 0) {
                  int end = id.indexOf('/', ns + 4);
                  out.putFields(
                      "source.namespace",
                      string(end < 0 ? id.substring(ns + 4) : id.substring(ns + 4, end)));
                }
              }
            });
    Struct jwt = info.dynamicMetadata(JWT_AUTHN);
    if (jwt != null) {
      for (String issuer : config.issuers()) {
        Value v = jwt.getFieldsMap().get(config.payloadLocations().getOrDefault(issuer, issuer));
        if (v != null && v.hasStructValue()) {
          origin(v.getStructValue(), out);
          break;
        }
      }
    }
    if (out.getFieldsCount() > 0) {
      info.setDynamicMetadata(IstioAuthnFactory.NAME, out.build());
    }
    return FilterStatus.CONTINUE;
  }

  private static void origin(Struct payload, Struct.Builder out) {
    Map<String, Value> f = payload.getFieldsMap();
    String iss = text(f.get("iss"));
    String sub = text(f.get("sub"));
    out.putFields("request.auth.principal", string(iss + "/" + sub));
    Value aud = f.get("aud");
    if (aud != null) {
      String first =
          aud.hasListValue()
              ? (aud.getListValue().getValuesCount() > 0
                  ? text(aud.getListValue().getValues(0))
                  : "")
              : text(aud);
      if (!first.isEmpty()) {
        out.putFields("request.auth.audiences", string(first));
      }
    }
    String azp = text(f.get("azp"));
    if (!azp.isEmpty()) {
      out.putFields("request.auth.presenter", string(azp));
    }
    out.putFields(
        "request.auth.claims", Value.newBuilder().setStructValue(claims(payload)).build());
  }

  /** Each claim as a list: a string becomes a list of one, a list stays; objects recurse. */
  static Struct claims(Struct payload) {
    Struct.Builder b = Struct.newBuilder();
    payload
        .getFieldsMap()
        .forEach(
            (k, v) -> {
              if (v.hasListValue()) {
                b.putFields(k, v);
              } else if (v.hasStructValue()) {
                b.putFields(
                    k, Value.newBuilder().setStructValue(claims(v.getStructValue())).build());
              } else if (!v.hasNullValue()) {
                b.putFields(
                    k,
                    Value.newBuilder().setListValue(ListValue.newBuilder().addValues(v)).build());
              }
            });
    return b.build();
  }

  private static String text(@Nullable Value v) {
    if (v == null) {
      return "";
    }
    return switch (v.getKindCase()) {
      case STRING_VALUE -> v.getStringValue();
      case NUMBER_VALUE -> {
        double d = v.getNumberValue();
        yield d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
      }
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      default -> "";
    };
  }

  private static Value string(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
