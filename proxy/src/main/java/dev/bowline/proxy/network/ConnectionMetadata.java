package dev.bowline.proxy.network;

import com.google.protobuf.Struct;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A connection's dynamic metadata (Envoy's connection-level {@code StreamInfo}), by filter name:
 * what one network filter leaves for the next (the network RBAC's shadow result for Istio's CUSTOM
 * ext_authz). Touched only on the connection's event loop.
 */
public final class ConnectionMetadata {
  private static final AttributeKey<Map<String, Struct>> KEY =
      AttributeKey.valueOf("bowline.connection_metadata");

  private ConnectionMetadata() {}

  /** Merges {@code fields} into {@code filter}'s metadata (a field there is replaced, as Envoy). */
  public static void set(Channel ch, String filter, Struct fields) {
    Map<String, Struct> m = ch.attr(KEY).get();
    if (m == null) {
      m = new HashMap<>();
      ch.attr(KEY).set(m);
    }
    Struct old = m.get(filter);
    m.put(
        filter, old == null ? fields : old.toBuilder().putAllFields(fields.getFieldsMap()).build());
  }

  /** {@code filter}'s metadata on {@code ch}, or null. */
  public static @Nullable Struct get(Channel ch, String filter) {
    Map<String, Struct> m = ch.attr(KEY).get();
    return m == null ? null : m.get(filter);
  }
}
