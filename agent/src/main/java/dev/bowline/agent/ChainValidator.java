package dev.bowline.agent;

import dev.bowline.ca.TrustBundle;
import dev.bowline.ca.WorkloadIdentity;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks a CA answer ({@code cert_chain}: leaf, intermediates, trust bundle) before the agent
 * serves it: the leaf holds our key and exactly our identity, and chains to the returned bundle,
 * which shares a root with what the agent already trusts.
 */
final class ChainValidator {
  private ChainValidator() {}

  /**
   * @param certChain the CA's answer
   * @param key the key pair whose public half went into the CSR
   * @param identity the identity asked for
   * @param trusted roots the agent trusts now (configured roots and the current bundle)
   * @param now the time to validate at
   */
  static WorkloadCertificate validate(
      List<String> certChain,
      KeyPair key,
      WorkloadIdentity identity,
      Collection<X509Certificate> trusted,
      Instant now)
      throws CertificateRejectedException {
    if (certChain.size() < 2) {
      throw new CertificateRejectedException(
          "cert_chain: expected the leaf and the trust bundle, got "
              + certChain.size()
              + " element(s)");
    }
    List<List<X509Certificate>> parsed = new ArrayList<>(certChain.size());
    for (int i = 0; i < certChain.size(); i++) {
      parsed.add(parse(certChain.get(i), i));
    }
    if (parsed.getFirst().size() != 1) {
      throw new CertificateRejectedException(
          "cert_chain[0]: expected one leaf certificate, found " + parsed.getFirst().size());
    }
    X509Certificate leaf = parsed.getFirst().getFirst();
    if (!leaf.getPublicKey().equals(key.getPublic())) {
      throw new CertificateRejectedException(
          "cert_chain[0]: the leaf's public key is not the key this agent put in its CSR");
    }
    if (leaf.getBasicConstraints() >= 0) {
      throw new CertificateRejectedException(
          "cert_chain[0]: the leaf is a CA certificate (basicConstraints CA:true); a workload"
              + " certificate must not be able to sign others");
    }
    checkIdentity(leaf, identity);
    List<X509Certificate> roots = parsed.getLast();
    for (X509Certificate root : roots) {
      if (root.getBasicConstraints() < 0) {
        throw new CertificateRejectedException(
            "cert_chain["
                + (certChain.size() - 1)
                + "]: trust bundle entry '"
                + root.getSubjectX500Principal().getName()
                + "' is not a CA certificate");
      }
    }
    if (!trusted.isEmpty() && roots.stream().noneMatch(trusted::contains)) {
      throw new CertificateRejectedException(
          "cert_chain["
              + (certChain.size() - 1)
              + "]: the trust bundle shares no root with the roots this agent trusts");
    }
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(leaf);
    Set<X509Certificate> rootSet = new HashSet<>(roots);
    for (List<X509Certificate> middle : parsed.subList(1, parsed.size() - 1)) {
      for (X509Certificate c : middle) {
        if (!rootSet.contains(c)) {
          chain.add(c);
        }
      }
    }
    checkPath(chain, roots, now);
    return new WorkloadCertificate(key.getPrivate(), chain, new TrustBundle(roots), now);
  }

  private static List<X509Certificate> parse(String pem, int index)
      throws CertificateRejectedException {
    try {
      Collection<? extends java.security.cert.Certificate> certs =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.UTF_8)));
      List<X509Certificate> out = new ArrayList<>();
      for (var c : certs) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new CertificateRejectedException(
            "cert_chain[" + index + "]: holds no PEM certificate");
      }
      return out;
    } catch (CertificateException | ClassCastException e) {
      throw new CertificateRejectedException(
          "cert_chain[" + index + "]: not PEM X.509 certificates (" + e.getMessage() + ")", e);
    }
  }

  private static void checkIdentity(X509Certificate leaf, WorkloadIdentity identity)
      throws CertificateRejectedException {
    Collection<List<?>> sans;
    try {
      sans = leaf.getSubjectAlternativeNames();
    } catch (CertificateException e) {
      throw new CertificateRejectedException(
          "cert_chain[0]: subjectAltName cannot be parsed (" + e.getMessage() + ")", e);
    }
    List<String> all = new ArrayList<>();
    if (sans != null) {
      for (List<?> san : sans) {
        all.add(sanType(san.get(0)) + ":" + san.get(1));
      }
    }
    if (!all.equals(List.of("URI:" + identity.spiffeId()))) {
      throw new CertificateRejectedException(
          "cert_chain[0]: subjectAltName "
              + (all.isEmpty() ? "is missing" : all.toString())
              + " is not exactly the requested identity "
              + identity.spiffeId());
    }
  }

  private static String sanType(Object type) {
    return switch (type instanceof Integer i ? i : -1) {
      case 1 -> "email";
      case 2 -> "DNS";
      case 6 -> "URI";
      case 7 -> "IP";
      default -> "type" + type;
    };
  }

  private static void checkPath(
      List<X509Certificate> chain, List<X509Certificate> roots, Instant now)
      throws CertificateRejectedException {
    try {
      Set<TrustAnchor> anchors = new HashSet<>();
      for (X509Certificate r : roots) {
        anchors.add(new TrustAnchor(r, null));
      }
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      params.setDate(Date.from(now));
      CertPathValidator.getInstance("PKIX")
          .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
    } catch (GeneralSecurityException e) {
      throw new CertificateRejectedException(
          "cert_chain: the leaf does not chain to the returned trust bundle: " + e.getMessage(), e);
    }
  }
}
