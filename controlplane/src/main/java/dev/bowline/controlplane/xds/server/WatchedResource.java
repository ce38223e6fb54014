package dev.bowline.controlplane.xds.server;

import com.google.protobuf.ByteString;
import dev.bowline.controlplane.xds.gen.ResourceNames;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
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

  /**
   * Name to content version of what the client has (delta: what we sent or it declared). After a
   * full SotW response it is the shared, immutable map of the generated output ({@link
   * #sentShared}); copy it before changing it.
   */
  Map<String, String> sent = new HashMap<>();

  /** Whether {@link #sent} is shared with other streams (immutable). */
  boolean sentShared;

  /** The subscription as generators take it; rebuilt only when the subscription changes. */
  @Nullable ResourceNames request;

  /** The names of the last SotW request as sent (cheap to compare with the next ACK's). */
  List<ByteString> rawNames = List.of();

  /** {@link #sent}, mutable and owned by this stream. */
  Map<String, String> ownSent() {
    if (sentShared) {
      sent = new HashMap<>(sent);
      sentShared = false;
    }
    return sent;
  }

  /** The subscription as generators take it. */
  ResourceNames request() {
    ResourceNames r = request;
    if (r == null) {
      r = wildcard ? new ResourceNames(true, names) : ResourceNames.of(names);
      request = r;
    }
    return r;
  }

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
