package dev.bowline.proxy.tls;

import com.google.rpc.Status;
import dev.bowline.proxy.xds.ResourceParser;
import dev.bowline.proxy.xds.SecretParser;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One SDS stream ({@code SecretDiscoveryService/StreamSecrets}, State of the World) to a static
 * cluster, e.g. Istio's {@code sds-grpc} on the agent's Unix socket. Subscribes to the secret names
 * the config refers to, puts what arrives into the {@link SecretStore}, ACKs, NACKs a secret that
 * does not parse (keeping the last good one) and reconnects with backoff. A response holding only
 * some names (a rotation) leaves the others as they are. All state lives on {@code executor}.
 */
public final class SdsClient implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SdsClient.class.getName());

  private final SdsSource.Grpc source;
  private final ManagedChannel channel;
  private final Node node;
  private final SecretStore store;
  private final ScheduledExecutorService executor;
  private final SecretParser parser = new SecretParser();
  private Set<String> names = new TreeSet<>();
  private @Nullable StreamObserver<DiscoveryRequest> requests;
  private String version = "";
  private String nonce = "";
  private int failures;
  private boolean closed;

  /** Set by {@link #close} from any thread: callbacks stop handing work to the executor. */
  private volatile boolean closing;

  /** A client that opens its stream on the first {@link #subscribe}. */
  public SdsClient(
      SdsSource.Grpc source,
      ManagedChannel channel,
      Node node,
      SecretStore store,
      ScheduledExecutorService executor) {
    this.source = source;
    this.channel = channel;
    this.node = node;
    this.store = store;
    this.executor = executor;
  }

  /** Asks for exactly {@code wanted} (the names the config refers to now). */
  public void subscribe(Set<String> wanted) {
    executor.execute(
        () -> {
          if (closed || wanted.equals(names)) {
            return;
          }
          names = new TreeSet<>(wanted);
          if (requests == null) {
            connect();
          } else {
            send(null);
          }
        });
  }

  private void connect() {
    if (closed || names.isEmpty()) {
      return;
    }
    Object[] self = new Object[1];
    StreamObserver<DiscoveryResponse> responses =
        new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse r) {
            onExecutor(() -> receive(self[0], r));
          }

          @Override
          public void onError(Throwable t) {
            onExecutor(() -> broken(self[0], String.valueOf(t.getMessage())));
          }

          @Override
          public void onCompleted() {
            onExecutor(() -> broken(self[0], "stream closed by server"));
          }
        };
    StreamObserver<DiscoveryRequest> out =
        SecretDiscoveryServiceGrpc.newStub(channel).streamSecrets(responses);
    self[0] = out;
    requests = out;
    nonce = "";
    send(null);
  }

  /**
   * Hands a stream event to the executor, unless the client is closing: the stream's end at
   * shutdown (cancelled by the channel's shutdown) is expected and has nothing left to do.
   */
  private void onExecutor(Runnable r) {
    if (closing) {
      return;
    }
    try {
      executor.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the owner shut the executor down before closing this client: nothing left to do either
    }
  }

  private void send(@Nullable String errorDetail) {
    StreamObserver<DiscoveryRequest> out = requests;
    if (out == null) {
      return;
    }
    DiscoveryRequest.Builder b =
        DiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(SecretParser.TYPE_URL)
            .addAllResourceNames(names)
            .setVersionInfo(version)
            .setResponseNonce(nonce);
    if (errorDetail != null) {
      b.setErrorDetail(
          Status.newBuilder()
              .setCode(com.google.rpc.Code.INVALID_ARGUMENT_VALUE)
              .setMessage(errorDetail));
    }
    out.onNext(b.build());
  }

  private void receive(@Nullable Object stream, DiscoveryResponse r) {
    if (stream != requests || closed) {
      return;
    }
    failures = 0;
    List<String> errors = new ArrayList<>();
    for (var any : r.getResourcesList()) {
      try {
        var parsed = parser.unpackAndParse(any);
        store.put(new SecretKey(source, parsed.name()), parsed.value());
        LOG.log(
            Level.DEBUG,
            "event=sds_secret source={0} name={1} version={2}",
            source.key(),
            parsed.name(),
            r.getVersionInfo());
      } catch (ResourceParser.ParseFailure e) {
        errors.add(e.getMessage());
      }
    }
    nonce = r.getNonce();
    if (errors.isEmpty()) {
      version = r.getVersionInfo();
      send(null);
    } else {
      String detail = String.join("; ", errors);
      LOG.log(Level.WARNING, "event=sds_nack source={0} error=\"{1}\"", source.key(), detail);
      send(detail);
    }
  }

  private void broken(@Nullable Object stream, String why) {
    if (stream != requests || closed) {
      return;
    }
    requests = null;
    failures++;
    long delay = Math.min(30_000, 250L << Math.min(failures, 7));
    LOG.log(
        failures == 1 ? Level.INFO : Level.DEBUG,
        "event=sds_stream_broken source={0} retry_in_ms={1} error=\"{2}\"",
        source.key(),
        delay,
        why);
    executor.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  /** The secret source this client serves. */
  public SdsSource.Grpc source() {
    return source;
  }

  /**
   * Ends the stream, then the channel: the stream is half-closed on the executor (where its state
   * lives), the channel shut down after it; events the shutdown causes are dropped, not queued.
   */
  @Override
  public void close() {
    closing = true;
    Runnable end =
        () -> {
          closed = true;
          StreamObserver<DiscoveryRequest> out = requests;
          requests = null;
          if (out != null) {
            try {
              out.onCompleted();
            } catch (RuntimeException e) {
              // the stream may already be gone
            }
          }
          channel.shutdownNow();
        };
    try {
      executor.execute(end);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      channel.shutdownNow(); // the executor is gone already: nothing else touches the state
    }
  }

  /** For tests and the admin page: how long the next reconnect waits after {@code n} failures. */
  static Duration backoff(int n) {
    return Duration.ofMillis(Math.min(30_000, 250L << Math.min(n, 7)));
  }
}
