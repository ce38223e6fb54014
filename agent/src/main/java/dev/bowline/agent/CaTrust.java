package dev.bowline.agent;

import static java.util.Objects.requireNonNull;

import dev.bowline.ca.TrustBundle;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The roots the CA's serving certificate must chain to. Read again before every CA call, so after a
 * root rotation the agent reaches a CA that already serves under the new root (Istio's agent
 * re-reads {@code root-cert.pem} from the {@code istio-ca-root-cert} config map for the same
 * reason).
 */
public sealed interface CaTrust {

  /**
   * The roots now.
   *
   * @throws IOException naming the file and what is wrong with it
   */
  List<X509Certificate> roots() throws IOException;

  /**
   * Roots fixed at start.
   *
   * @param bundle the roots
   */
  record Fixed(TrustBundle bundle) implements CaTrust {
    public Fixed {
      requireNonNull(bundle, "bundle");
    }

    @Override
    public List<X509Certificate> roots() {
      return bundle.roots();
    }
  }

  /**
   * Roots read from a PEM file each time, e.g. the CA's {@code root-cert.pem}, which it rewrites
   * with old and new root during a rotation.
   *
   * @param file concatenated PEM certificates
   */
  record PemFile(Path file) implements CaTrust {
    public PemFile {
      requireNonNull(file, "file");
    }

    @Override
    public List<X509Certificate> roots() throws IOException {
      List<X509Certificate> out = new ArrayList<>();
      try (InputStream in = Files.newInputStream(file)) {
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          out.add((X509Certificate) c);
        }
      } catch (CertificateException | ClassCastException e) {
        throw new IOException(file + ": not PEM X.509 certificates (" + e.getMessage() + ")", e);
      }
      if (out.isEmpty()) {
        throw new IOException(file + ": holds no certificate");
      }
      return out;
    }
  }
}
