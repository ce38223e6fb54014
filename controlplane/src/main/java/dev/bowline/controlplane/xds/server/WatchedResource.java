package dev.bowline.controlplane.xds.server;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/** One type's subscription and protocol state on one stream; owned by its connection's context. */
final class WatchedResource {
  final String typeUrl;
  boolean wildcard;
  Set<String> names = new TreeSet<>();
  @Nullable String sentNonce;
  @Nullable String sentVersion;
  @Nullable String ackedNonce;
  @Nullable String ackedVersion;
  @Nullable String nackNonce;
  @Nullable String nackError;
  @Nullable Instant nackAt;

  /** Name to content version of what the client has (delta: what we sent or it declared). */
  Map<String, String> sent = new HashMap<>();

  /** Explicitly subscribed names that don't exist, already reported to the client. */
  Set<String> missing = new TreeSet<>();

  WatchedResource(String typeUrl) {
    this.typeUrl = typeUrl;
  }

  String status() {
    if (sentNonce == null) {
      return "NOT_SENT";
    }
    if (sentNonce.equals(nackNonce)) {
      return "NACK";
    }
    return sentNonce.equals(ackedNonce) ? "SYNCED" : "STALE";
  }
}
