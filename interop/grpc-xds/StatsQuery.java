import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.testing.integration.LoadBalancerStatsServiceGrpc;
import io.grpc.testing.integration.Messages.LoadBalancerStatsRequest;
import io.grpc.testing.integration.Messages.LoadBalancerStatsResponse;
import java.util.concurrent.TimeUnit;

/**
 * Asks a running XdsTestClient (grpc-java's interop client) for the peers of its next RPCs, as the
 * grpc xDS interop driver does: {@code java -cp <interop classpath> StatsQuery.java HOST:PORT
 * NUM_RPCS TIMEOUT_SEC}. Prints one {@code peer <hostname> <count>} line per backend, one {@code
 * method <name> <peer> <count>} line per method and peer, then {@code failures <n>}.
 */
public final class StatsQuery {
  public static void main(String[] args) throws Exception {
    ManagedChannel channel =
        Grpc.newChannelBuilder(args[0], InsecureChannelCredentials.create()).build();
    try {
      int timeout = Integer.parseInt(args[2]);
      LoadBalancerStatsResponse stats =
          LoadBalancerStatsServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(timeout + 10L, TimeUnit.SECONDS)
              .getClientStats(
                  LoadBalancerStatsRequest.newBuilder()
                      .setNumRpcs(Integer.parseInt(args[1]))
                      .setTimeoutSec(timeout)
                      .build());
      stats.getRpcsByPeerMap().forEach((peer, n) -> System.out.println("peer " + peer + " " + n));
      stats
          .getRpcsByMethodMap()
          .forEach(
              (method, byPeer) ->
                  byPeer
                      .getRpcsByPeerMap()
                      .forEach(
                          (peer, n) -> System.out.println("method " + method + " " + peer + " " + n)));
      System.out.println("failures " + stats.getNumFailures());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
