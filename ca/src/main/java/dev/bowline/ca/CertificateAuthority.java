package dev.bowline.ca;

import static dev.bowline.ca.CaException.Reason.INVALID_ARGUMENT;
import static dev.bowline.ca.CaException.Reason.PERMISSION_DENIED;
import static dev.bowline.ca.CaException.Reason.UNAUTHENTICATED;
import static java.util.Objects.requireNonNull;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * The mesh CA: signs workload certificates for the identities a caller holds, and keeps the root.
 *
 * <p>Signing reads one immutable {@link SigningAuthority} and takes no lock; rotation and reload
 * build a new one and swap it in. Clock and randomness come from the caller, so tests and several
 * CAs in one JVM stay independent.
 */
public final class CertificateAuthority {
  private static final System.Logger LOG = System.getLogger(CertificateAuthority.class.getName());
  private static final Duration CLOCK_SKEW = Duration.ofMinutes(2);

  private final CaConfig config;
  private final Clock clock;
  private final SecureRandom random;
  private final Signing signing;
  private final AtomicReference<SigningAuthority> authority;
  private final Object adminLock = new Object();

  private CertificateAuthority(
      CaConfig config, Clock clock, SecureRandom random, Signing signing, SigningAuthority first) {
    this.config = config;
    this.clock = clock;
    this.random = random;
    this.signing = signing;
    this.authority = new AtomicReference<>(first);
  }

  /**
   * Opens the CA: loads the root from {@code config.root()}, creating a self-signed one at first
   * start.
   *
   * @throws IllegalArgumentException or {@link IllegalStateException} naming the file and what is
   *     wrong when the key material is unusable
   */
  public static CertificateAuthority open(CaConfig config, Clock clock, SecureRandom random) {
    return open(config, clock, random, new Signing());
  }

  static CertificateAuthority open(
      CaConfig config, Clock clock, SecureRandom random, Signing signing) {
    requireNonNull(config, "config");
    requireNonNull(clock, "clock");
    requireNonNull(random, "random");
    SigningAuthority first =
        switch (config.root()) {
          case RootSource.SelfSigned s ->
              RootStore.loadOrCreate(s.directory(), config, clock, random, signing);
          case RootSource.PluggedIn p -> RootStore.loadPluggedIn(p.directory(), clock);
        };
    LOG.log(
        System.Logger.Level.INFO,
        "event=ca_open source={0} dir={1} signer=\"{2}\" roots={3} trust_domain={4}",
        config.root().getClass().getSimpleName(),
        config.root().directory(),
        first.cert().getSubjectX500Principal(),
        first.trustBundle().roots().size(),
        config.trustDomain());
    return new CertificateAuthority(config, clock, random, signing, first);
  }

  /** The configuration the CA runs with. */
  public CaConfig config() {
    return config;
  }

  /** The roots workloads must trust now (during a rotation, old and new). */
  public TrustBundle trustBundle() {
    return authority.get().trustBundle();
  }

  /** The certificate the CA signs with now (the root, or the plugged-in intermediate). */
  public X509Certificate signingCertificate() {
    return authority.get().cert();
  }

  /**
   * Signs {@code csrPem} for a caller that holds {@code callerIdentities}.
   *
   * <p>The leaf gets the CSR's SPIFFE URIs, each of which the caller must hold; a CSR without URIs
   * gets all of the caller's identities (as Istio's CA does). The key comes from the CSR, whose
   * signature must verify.
   *
   * @param csrPem a PEM PKCS#10 request (ECDSA P-256/P-384 or RSA 2048-8192)
   * @param callerIdentities what the authenticated caller is; must not be empty
   * @param requestedTtl zero or negative for the default lifetime
   * @throws CaException naming the field, identity or credential that is wrong
   */
  public IssuedCertificate sign(
      String csrPem, Set<WorkloadIdentity> callerIdentities, Duration requestedTtl) {
    if (callerIdentities.isEmpty()) {
      throw new CaException(UNAUTHENTICATED, "the caller has no workload identity");
    }
    Duration ttl = effectiveTtl(requestedTtl);
    for (WorkloadIdentity id : callerIdentities) {
      if (!id.trustDomain().equals(config.trustDomain())) {
        throw new CaException(
            PERMISSION_DENIED,
            "caller identity "
                + id
                + " is not in this CA's trust domain '"
                + config.trustDomain()
                + "'");
      }
    }
    Signing.CheckedCsr csr = signing.check(csrPem, config.maxCsrBytes());
    List<String> uris = authorizedUris(csr.uris(), callerIdentities);
    SigningAuthority a = authority.get();
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS); // X.509 time has seconds
    Instant notAfter = now.plus(ttl);
    Instant caNotAfter = a.cert().getNotAfter().toInstant();
    if (notAfter.isAfter(caNotAfter)) {
      notAfter = caNotAfter; // never outlive the signing certificate
    }
    Instant notBefore = now.minus(CLOCK_SKEW);
    BigInteger serial = serialNumber();
    byte[] der =
        signing.signLeaf(
            a, csr.publicKey(), uris, serial, Date.from(notBefore), Date.from(notAfter), random);
    List<String> chain = new ArrayList<>(a.chainPem().size() + 2);
    chain.add(Pem.encode("CERTIFICATE", der));
    chain.addAll(a.chainPem());
    chain.add(a.bundlePem());
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "event=certificate_issued identities={0} key=\"{1}\" serial={2} not_after={3}",
          uris,
          csr.keyDescription(),
          serial.toString(16),
          notAfter);
    }
    return new IssuedCertificate(chain, uris, serial, notBefore, notAfter);
  }

  /**
   * Starts a new self-signed root and signs with it from now on; the old root stays in the trust
   * bundle (listed after the new one) so certificates it signed remain valid until {@link
   * #retireRoot} drops it. The new root is written to the CA directory before it is used.
   *
   * @return the new trust bundle
   * @throws IllegalStateException when the root is plugged in (replace the files and {@link
   *     #reload()} instead)
   */
  public TrustBundle rotateRoot() {
    synchronized (adminLock) {
      if (!(config.root() instanceof RootSource.SelfSigned s)) {
        throw new IllegalStateException(
            "the root is plugged in from "
                + config.root().directory()
                + "; rotate it by replacing the cacerts files (root-cert.pem listing old and new"
                + " roots) and calling reload()");
      }
      SigningAuthority old = authority.get();
      SigningAuthority next =
          RootStore.newRoot(config, old.trustBundle().roots(), clock, random, signing);
      RootStore.persist(s.directory(), next);
      authority.set(next);
      LOG.log(
          System.Logger.Level.INFO,
          "event=ca_root_rotated new=\"{0}\" previous=\"{1}\" trusted_roots={2}",
          next.cert().getSubjectX500Principal(),
          old.cert().getSubjectX500Principal(),
          next.trustBundle().roots().size());
      return next.trustBundle();
    }
  }

  /**
   * Drops {@code root} from the trust bundle once nothing it signed is in use.
   *
   * @return the new trust bundle
   * @throws IllegalArgumentException if {@code root} is not trusted or is the one the CA signs
   *     under
   */
  public TrustBundle retireRoot(X509Certificate root) {
    synchronized (adminLock) {
      if (!(config.root() instanceof RootSource.SelfSigned s)) {
        throw new IllegalStateException(
            "the root is plugged in from "
                + config.root().directory()
                + "; edit root-cert.pem and call reload()");
      }
      SigningAuthority current = authority.get();
      if (root.equals(current.root())) {
        throw new IllegalArgumentException(
            "root " + root.getSubjectX500Principal() + " is the one the CA signs under");
      }
      List<X509Certificate> roots = new ArrayList<>(current.trustBundle().roots());
      if (!roots.remove(root)) {
        throw new IllegalArgumentException(
            "root " + root.getSubjectX500Principal() + " is not in the trust bundle");
      }
      SigningAuthority next =
          SigningAuthority.of(
              current.key(), current.cert(), current.intermediates(), new TrustBundle(roots));
      RootStore.persist(s.directory(), next);
      authority.set(next);
      LOG.log(
          System.Logger.Level.INFO,
          "event=ca_root_retired root=\"{0}\" trusted_roots={1}",
          root.getSubjectX500Principal(),
          roots.size());
      return next.trustBundle();
    }
  }

  /**
   * Reads the key material again (after an operator replaced the cacerts files). An invalid set is
   * refused and the CA keeps signing with the last good one.
   *
   * @throws IllegalArgumentException naming the file and what is wrong
   */
  public TrustBundle reload() {
    synchronized (adminLock) {
      SigningAuthority next =
          switch (config.root()) {
            case RootSource.SelfSigned s -> RootStore.loadSelfSigned(s.directory(), clock);
            case RootSource.PluggedIn p -> RootStore.loadPluggedIn(p.directory(), clock);
          };
      authority.set(next);
      LOG.log(
          System.Logger.Level.INFO,
          "event=ca_reloaded signer=\"{0}\" trusted_roots={1}",
          next.cert().getSubjectX500Principal(),
          next.trustBundle().roots().size());
      return next.trustBundle();
    }
  }

  SigningAuthority authority() {
    return authority.get();
  }

  Clock clock() {
    return clock;
  }

  SecureRandom random() {
    return random;
  }

  Signing signing() {
    return signing;
  }

  private Duration effectiveTtl(Duration requested) {
    if (requested.isZero() || requested.isNegative()) {
      return config.defaultTtl();
    }
    if (requested.compareTo(config.maxTtl()) > 0) {
      throw new CaException(
          INVALID_ARGUMENT,
          "validity_duration: "
              + requested.toSeconds()
              + "s exceeds the CA's maximum of "
              + config.maxTtl().toSeconds()
              + "s");
    }
    return requested;
  }

  private static List<String> authorizedUris(
      List<String> requested, Set<WorkloadIdentity> callerIdentities) {
    Set<String> held =
        callerIdentities.stream().map(WorkloadIdentity::spiffeId).collect(Collectors.toSet());
    if (requested.isEmpty()) {
      return held.stream().sorted().toList();
    }
    for (String uri : requested) {
      if (!held.contains(uri)) {
        throw new CaException(
            PERMISSION_DENIED,
            "csr asks for identity "
                + uri
                + " but the caller is authenticated as "
                + String.join(", ", held.stream().sorted().toList()));
      }
    }
    return List.copyOf(requested);
  }

  private BigInteger serialNumber() {
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    bytes[0] &= 0x7f; // positive, at most 127 bits as RFC 5280 wants <= 20 octets
    bytes[0] |= 0x40; // never zero, never short
    return new BigInteger(1, bytes);
  }
}
