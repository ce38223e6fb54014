package dev.bowline.agent;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One SotW {@code StreamSecrets} stream. Its state is confined to a {@link SynchronizationContext}:
 * requests from the proxy and pushes from the certificate manager are queued onto it.
 *
 * <p>Protocol, as Istio's xDS server: a request whose names differ from the last is answered with
 * all its names; a request with {@code error_detail} is a NACK (logged, not answered); a request
 * whose {@code response_nonce} is not the last one sent is stale (ignored); otherwise it is an ACK.
 * A request that comes before the first certificate is answered when the certificate arrives.
 */
final class SdsStream implements StreamObserver<DiscoveryRequest> {
  private static final System.Logger LOG = System.getLogger(SdsStream.class.getName());

  private final SdsServer server;
  private final StreamObserver<DiscoveryResponse> out;
  private final long id;
  private final SynchronizationContext context;
  private Set<String> watched = Set.of();
  private String node = "";
  private String lastNonce = "";
  private boolean answered;

  /**
   * The certificate of the last response: every watched name holds this certificate's parts. A push
   * is diffed against it, not against the server's last push, because a request may have been
   * answered from the source's current certificate before that certificate's push arrives.
   */
  private @Nullable WorkloadCertificate sent;

  private boolean done;

  SdsStream(SdsServer server, StreamObserver<DiscoveryResponse> out, long id) {
    this.server = server;
    this.out = out;
    this.id = id;
    this.context =
        new SynchronizationContext(
            (t, e) ->
                LOG.log(
                    Level.ERROR,
                    "event=sds_stream_error stream={0} error=\"{1}\"",
                    id,
                    e.toString()));
  }

  @Override
  public void onNext(DiscoveryRequest request) {
    context.execute(() -> handle(request));
  }

  @Override
  public void onError(Throwable t) {
    context.execute(
        () -> {
          LOG.log(
              Level.DEBUG,
              "event=sds_stream_closed stream={0} node={1} reason=\"{2}\"",
              id,
              node,
              Status.fromThrowable(t));
          finish();
        });
  }

  @Override
  public void onCompleted() {
    context.execute(
        () -> {
          if (!done) {
            out.onCompleted();
          }
          finish();
        });
  }

  /**
   * A new certificate: push the names it changes against what this stream last got, or everything
   * if not yet answered.
   */
  void push(WorkloadCertificate cert) {
    context.execute(
        () -> {
          if (done || watched.isEmpty()) {
            return;
          }
          WorkloadCertificate before = sent;
          if (!answered || before == null) {
            send(watched, cert, "first_certificate");
            return;
          }
          boolean leafChanged = !before.leaf().equals(cert.leaf());
          boolean bundleChanged = !before.bundle().equals(cert.bundle());
          Set<String> names = new LinkedHashSet<>();
          for (String n : watched) {
            if (SdsSecrets.isRoot(n) ? bundleChanged : leafChanged) {
              names.add(n);
            }
          }
          if (!names.isEmpty()) {
            send(names, cert, "rotation");
          }
        });
  }

  private void handle(DiscoveryRequest request) {
    if (done) {
      return;
    }
    if (request.hasNode() && !request.getNode().getId().isEmpty()) {
      node = request.getNode().getId();
    }
    if (!request.getTypeUrl().isEmpty() && !request.getTypeUrl().equals(SdsSecrets.TYPE_URL)) {
      fail(
          Status.INVALID_ARGUMENT.withDescription(
              "type_url: this server serves only "
                  + SdsSecrets.TYPE_URL
                  + ", not "
                  + request.getTypeUrl()));
      return;
    }
    if (request.hasErrorDetail()) {
      LOG.log(
          Level.WARNING,
          "event=sds_nack stream={0} node={1} names={2} version={3} nonce={4} error=\"{5}\"",
          id,
          node,
          request.getResourceNamesList(),
          request.getVersionInfo(),
          request.getResponseNonce(),
          request.getErrorDetail().getMessage());
      return;
    }
    if (!request.getResponseNonce().isEmpty() && !request.getResponseNonce().equals(lastNonce)) {
      LOG.log(
          Level.DEBUG,
          "event=sds_stale_request stream={0} node={1} nonce={2} last_nonce={3}",
          id,
          node,
          request.getResponseNonce(),
          lastNonce);
      return;
    }
    Set<String> names = new LinkedHashSet<>(request.getResourceNamesList());
    if (answered && names.equals(watched)) {
      LOG.log(
          Level.DEBUG,
          "event=sds_ack stream={0} node={1} version={2}",
          id,
          node,
          request.getVersionInfo());
      return;
    }
    for (String name : names) {
      Optional<String> why = SdsSecrets.unsupported(name);
      if (why.isPresent()) {
        fail(Status.UNIMPLEMENTED.withDescription(why.get()));
        return;
      }
    }
    watched = Set.copyOf(names);
    if (names.isEmpty()) {
      return;
    }
    WorkloadCertificate cert = server.source().current().orElse(null);
    if (cert == null) {
      LOG.log(Level.DEBUG, "event=sds_waiting_for_certificate stream={0} names={1}", id, names);
      answered = false;
      return;
    }
    send(names, cert, "request");
  }

  private void send(Set<String> names, WorkloadCertificate cert, String why) {
    DiscoveryResponse.Builder response =
        DiscoveryResponse.newBuilder()
            .setTypeUrl(SdsSecrets.TYPE_URL)
            .setVersionInfo(server.nextVersion())
            .setNonce(server.nextNonce());
    for (String name : names) {
      response.addResources(Any.pack(SdsSecrets.secret(name, cert)));
    }
    DiscoveryResponse r = response.build();
    out.onNext(r);
    lastNonce = r.getNonce();
    answered = true;
    sent = cert;
    LOG.log(
        Level.DEBUG,
        "event=sds_push stream={0} node={1} names={2} version={3} serial={4} cause={5}",
        id,
        node,
        List.copyOf(names),
        r.getVersionInfo(),
        cert.serial(),
        why);
  }

  private void fail(Status status) {
    LOG.log(
        Level.WARNING,
        "event=sds_request_refused stream={0} node={1} reason=\"{2}\"",
        id,
        node,
        status.getDescription());
    out.onError(status.asRuntimeException());
    finish();
  }

  private void finish() {
    done = true;
    server.remove(this);
  }

  @Override
  public String toString() {
    return "SdsStream[" + id + ", node=" + node + "]";
  }
}
