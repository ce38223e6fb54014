package dev.bowline.proxy.http.filter.rbac;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.filter.FilterStatus;
import dev.bowline.proxy.http.filter.HttpFilter;
import dev.bowline.proxy.http.filter.StreamContext;
import dev.bowline.proxy.http.filter.StreamInfo;
import dev.bowline.proxy.rbac.RbacEngine;
import io.netty.handler.codec.http.HttpRequest;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One stream's RBAC, as Envoy's filter: the shadow engine first (counted, its result left in the
 * dynamic metadata of {@code envoy.filters.http.rbac}), then the enforced one: denied requests get
 * 403 {@code RBAC: access denied}. A route's {@code RBACPerRoute} replaces both engines.
 */
final class RbacFilter implements HttpFilter {
  /** Where Envoy's RBAC filter leaves its dynamic metadata. */
  static final String METADATA_NAMESPACE = "envoy.filters.http.rbac";

  /** Envoy's body of the local reply to a denied request. */
  static final String DENIED_BODY = "RBAC: access denied";

  private final RbacConfig config;
  private final StreamInfo info;

  RbacFilter(RbacConfig config, StreamInfo info) {
    this.config = config;
    this.info = info;
  }

  @Override
  public FilterStatus onRequestHeaders(
      HttpRequest request, StreamContext stream, @Nullable Object routeConfig) {
    Optional<RbacEngine> rules = config.rules();
    Optional<RbacEngine> shadow = config.shadowRules();
    if (routeConfig instanceof RbacConfig.PerRoute r) {
      rules = r.rules();
      shadow = r.shadowRules();
    }
    if (rules.isEmpty() && shadow.isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    StreamInput in = new StreamInput(info, request);
    var stats = config.stats();
    if (shadow.isPresent()) {
      RbacEngine e = shadow.get();
      RbacEngine.Policy matched = e.firstMatch(in);
      boolean allowed = e.allowed(matched);
      (allowed ? stats.shadowAllowed() : stats.shadowDenied()).inc();
      Struct.Builder md = Struct.newBuilder();
      if (matched != null) {
        md.putFields(config.shadowPrefix() + "shadow_effective_policy_id", str(matched.name()));
      }
      md.putFields(
          config.shadowPrefix() + "shadow_engine_result", str(allowed ? "allowed" : "denied"));
      info.setDynamicMetadata(METADATA_NAMESPACE, md.build());
    }
    if (rules.isEmpty()) {
      return FilterStatus.CONTINUE;
    }
    RbacEngine e = rules.get();
    RbacEngine.Policy matched = e.firstMatch(in);
    if (e.action() == RbacEngine.Action.LOG) {
      // Envoy: LOG never denies; it tells the access log whether to log
      (matched != null ? stats.logged() : stats.notLogged()).inc();
      info.setDynamicMetadata(
          "envoy.common",
          Struct.newBuilder()
              .putFields(
                  "access_log_hint", Value.newBuilder().setBoolValue(matched != null).build())
              .build());
    }
    if (e.allowed(matched)) {
      stats.allowed().inc();
      return FilterStatus.CONTINUE;
    }
    stats.denied().inc();
    stream.sendLocalReply(
        403,
        DENIED_BODY,
        null,
        "rbac_access_denied_matched_policy[" + (matched == null ? "none" : matched.name()) + "]");
    return FilterStatus.STOP_ITERATION;
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
