package dev.bowline.ca;

import dev.bowline.ca.proto.IstioCertificateRequest;
import dev.bowline.ca.proto.IstioCertificateResponse;
import dev.bowline.ca.proto.IstioCertificateServiceGrpc;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Set;

/** Istio's {@code IstioCertificateService/CreateCertificate} on top of the CA. */
final class CertificateService extends IstioCertificateServiceGrpc.IstioCertificateServiceImplBase {
  private static final System.Logger LOG = System.getLogger(CertificateService.class.getName());

  /** Istio's metadata key for a ztunnel asking on behalf of another workload. */
  static final String IMPERSONATED_IDENTITY = "ImpersonatedIdentity";

  static final Context.Key<CallerAuthenticator.Credentials> CREDENTIALS =
      Context.key("bowline-ca-credentials");

  private final CertificateAuthority ca;
  private final CallerAuthenticator authenticator;

  CertificateService(CertificateAuthority ca, CallerAuthenticator authenticator) {
    this.ca = ca;
    this.authenticator = authenticator;
  }

  @Override
  public void createCertificate(
      IstioCertificateRequest request, StreamObserver<IstioCertificateResponse> response) {
    CallerAuthenticator.Credentials credentials = CREDENTIALS.get();
    Set<WorkloadIdentity> caller = Set.of();
    try {
      if (credentials == null) {
        throw new CaException(CaException.Reason.INTERNAL, "credentials were not captured");
      }
      caller = authenticator.authenticate(credentials);
      if (request.getMetadata().containsFields(IMPERSONATED_IDENTITY)) {
        throw new CaException(
            CaException.Reason.PERMISSION_DENIED,
            "metadata."
                + IMPERSONATED_IDENTITY
                + ": "
                + caller
                + " may not request certificates for other identities");
      }
      IssuedCertificate issued =
          ca.sign(request.getCsr(), caller, Duration.ofSeconds(request.getValidityDuration()));
      response.onNext(
          IstioCertificateResponse.newBuilder().addAllCertChain(issued.certChain()).build());
      response.onCompleted();
    } catch (CaException e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "event=certificate_refused caller={0} reason={1} message=\"{2}\"",
          caller,
          e.reason(),
          e.getMessage());
      response.onError(status(e).withDescription(e.getMessage()).asRuntimeException());
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "event=certificate_failed caller=" + caller + " error=\"" + e + "\"",
          e);
      response.onError(
          Status.INTERNAL
              .withDescription("the CA failed to sign: " + e.getClass().getSimpleName())
              .asRuntimeException());
    }
  }

  private static Status status(CaException e) {
    return switch (e.reason()) {
      case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
      case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
      case UNAUTHENTICATED -> Status.UNAUTHENTICATED;
      case INTERNAL -> Status.INTERNAL;
    };
  }
}
