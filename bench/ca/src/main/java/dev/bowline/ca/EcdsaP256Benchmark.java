package dev.bowline.ca;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Signature;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Raw ECDSA P-256 sign and verify of a 64-byte message on one thread, the JDK's SunEC beside Bouncy
 * Castle: the figures to set next to {@code openssl speed ecdsap256}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class EcdsaP256Benchmark {

  /** The JCA provider. */
  @Param({"JDK", "BC"})
  public String provider;

  private final byte[] message = "0123456789abcdef".repeat(4).getBytes(StandardCharsets.US_ASCII);
  private KeyPair pair;
  private Signature signer;
  private Signature verifier;
  private byte[] signature;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    SecureRandom random = new SecureRandom();
    pair = CsrSigningBenchmark.ecKey(random);
    Provider bc = provider.equals("BC") ? new BouncyCastleProvider() : null;
    signer =
        bc == null
            ? Signature.getInstance("SHA256withECDSA")
            : Signature.getInstance("SHA256withECDSA", bc);
    verifier =
        bc == null
            ? Signature.getInstance("SHA256withECDSA")
            : Signature.getInstance("SHA256withECDSA", bc);
    signer.initSign(pair.getPrivate(), random);
    verifier.initVerify(pair.getPublic());
    signer.update(message);
    signature = signer.sign();
  }

  @Benchmark
  public byte[] sign(CpuTime cpu) throws Exception {
    signer.update(message);
    byte[] s = signer.sign();
    cpu.mark();
    return s;
  }

  @Benchmark
  public boolean verify(CpuTime cpu) throws Exception {
    verifier.update(message);
    boolean ok = verifier.verify(signature);
    cpu.mark();
    return ok;
  }
}
