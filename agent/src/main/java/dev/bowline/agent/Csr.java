package dev.bowline.agent;

import dev.bowline.ca.WorkloadIdentity;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Key pairs and PKCS#10 requests, shaped as Istio's agent makes them. */
final class Csr {
  private Csr() {}

  static KeyPair keyPair(KeyAlgorithm algorithm, SecureRandom random) {
    try {
      return switch (algorithm) {
        case EC_P256 -> {
          KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
          g.initialize(new ECGenParameterSpec("secp256r1"), random);
          yield g.generateKeyPair();
        }
        case RSA_2048 -> {
          KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
          g.initialize(2048, random);
          yield g.generateKeyPair();
        }
      };
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot generate a " + algorithm + " key", e);
    }
  }

  /**
   * A PEM CSR for {@code key} with an empty subject and the SPIFFE ID as critical URI
   * subjectAltName (Istio's agent sets no subject either).
   */
  static String pem(KeyPair key, WorkloadIdentity identity) {
    try {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(
          Extension.subjectAlternativeName,
          true,
          new GeneralNames(
              new GeneralName(GeneralName.uniformResourceIdentifier, identity.spiffeId())));
      var builder =
          new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]), key.getPublic())
              .addAttribute(
                  PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
      String alg =
          key.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
      byte[] der =
          builder.build(new JcaContentSignerBuilder(alg).build(key.getPrivate())).getEncoded();
      return Pem.encode("CERTIFICATE REQUEST", der);
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot build a CSR for " + identity, e);
    }
  }
}
