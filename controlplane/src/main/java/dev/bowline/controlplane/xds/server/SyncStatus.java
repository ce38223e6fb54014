package dev.bowline.controlplane.xds.server;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What the control plane knows of one connected proxy's sync state, per type: the view behind
 * {@code /debug/syncz} and {@code bowline proxy-status}.
 *
 * @param connectionId this stream's id
 * @param proxyId the node id
 * @param namespace the proxy's namespace
 * @param clusterId metadata CLUSTER_ID
 * @param istioVersion metadata ISTIO_VERSION
 * @param generator metadata GENERATOR
 * @param peer the client's address
 * @param protocol {@code sotw} or {@code delta}
 * @param connectedAt when the stream opened
 * @param types per type short name ({@code cds}…)
 */
public record SyncStatus(
    String connectionId,
    String proxyId,
    String namespace,
    String clusterId,
    String istioVersion,
    String generator,
    String peer,
    String protocol,
    Instant connectedAt,
    Map<String, TypeStatus> types) {

  /**
   * One type's state.
   *
   * @param status {@code SYNCED} (last response ACKed), {@code STALE} (sent, not yet answered),
   *     {@code NACK} (last response rejected), {@code NOT_SENT}
   * @param wildcard whether everything of the type is subscribed
   * @param subscribed names explicitly subscribed
   * @param sentNonce nonce of the last response
   * @param sentVersion version_info of the last response (SotW) or system version (delta)
   * @param ackedNonce nonce of the last ACK
   * @param ackedVersion version_info of the last ACK
   * @param resources how many resources the proxy has of this type
   * @param missing subscribed names that don't exist in the mesh
   * @param nackError error_detail message of the last NACK, if any
   * @param nackAt when it came
   */
  public record TypeStatus(
      String status,
      boolean wildcard,
      List<String> subscribed,
      @Nullable String sentNonce,
      @Nullable String sentVersion,
      @Nullable String ackedNonce,
      @Nullable String ackedVersion,
      int resources,
      List<String> missing,
      @Nullable String nackError,
      @Nullable Instant nackAt) {}

  /**
   * A stream the server refused (malformed node or request): kept so that a client stuck because of
   * it is visible in {@code /debug/syncz}, not just in a log line.
   *
   * @param peer the client's address
   * @param nodeId the node id it sent (may be empty)
   * @param error why it was refused
   * @param at when
   */
  public record Rejected(String peer, String nodeId, String error, Instant at) {}
}
