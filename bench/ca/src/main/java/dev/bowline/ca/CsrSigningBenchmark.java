package dev.bowline.ca;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * The CA's whole signing path on one thread: parse the PEM CSR, check its key and verify its
 * signature, build and sign the ECDSA P-256 workload certificate, encode the PEM chain. One
 * operation is one CSR, so the score is CSRs per second per core. CSRs cycle through 64 distinct
 * keys so no cache helps.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class CsrSigningBenchmark {

  /** Which provider verifies the CSR / signs the certificate. */
  @Param({"BC_VERIFY_JDK_SIGN", "JDK", "BC"})
  public String engines;

  private static final int CSRS = 64;
  private static final Set<WorkloadIdentity> CALLER =
      Set.of(new WorkloadIdentity("cluster.local", "default", "sleep"));

  private Path dir;
  private CertificateAuthority ca;
  private String[] csrs;
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    Signing signing =
        switch (engines) {
          case "BC_VERIFY_JDK_SIGN" ->
              new Signing(Signing.Engine.BOUNCY_CASTLE, Signing.Engine.JDK);
          case "JDK" -> new Signing(Signing.Engine.JDK, Signing.Engine.JDK);
          case "BC" -> new Signing(Signing.Engine.BOUNCY_CASTLE, Signing.Engine.BOUNCY_CASTLE);
          default -> throw new IllegalArgumentException("engines: unknown " + engines);
        };
    dir = Files.createTempDirectory("bowline-ca-bench");
    SecureRandom random = new SecureRandom();
    ca =
        CertificateAuthority.open(
            CaConfig.defaults(new RootSource.SelfSigned(dir)), Clock.systemUTC(), random, signing);
    csrs = new String[CSRS];
    for (int i = 0; i < CSRS; i++) {
      csrs[i] = csr(ecKey(random), "spiffe://cluster.local/ns/default/sa/sleep");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(CsrSigningBenchmark::delete);
    }
  }

  /** Parse + verify CSR + sign certificate. */
  @Benchmark
  public IssuedCertificate signCsr(CpuTime cpu) {
    String csr = csrs[next];
    next = (next + 1) % CSRS;
    IssuedCertificate issued = ca.sign(csr, CALLER, Duration.ZERO);
    cpu.mark();
    return issued;
  }

  static KeyPair ecKey(SecureRandom random) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), random);
    return g.generateKeyPair();
  }

  static String csr(KeyPair pair, String uri) throws Exception {
    var b = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=bench"), pair.getPublic());
    ExtensionsGenerator eg = new ExtensionsGenerator();
    eg.addExtension(
        Extension.subjectAlternativeName,
        true,
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
    b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, eg.generate());
    byte[] der =
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()))
            .getEncoded();
    return Pem.encode("CERTIFICATE REQUEST", der);
  }

  private static void delete(Path p) {
    try {
      Files.delete(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
