package dev.bowline.proxy.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** PEM certificates. */
public final class Pem {
  private Pem() {}

  /**
   * The X.509 certificates in {@code pem}, in order.
   *
   * @throws IllegalArgumentException when there is none or one does not parse
   */
  public static List<X509Certificate> certificates(String pem) {
    try {
      CertificateFactory f = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (var c :
          f.generateCertificates(
              new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException("no PEM certificate found");
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException("not a valid PEM certificate: " + e.getMessage(), e);
    }
  }
}
