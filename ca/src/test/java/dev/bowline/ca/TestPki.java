package dev.bowline.ca;

import dev.bowline.ca.proto.IstioCertificateRequest;
import dev.bowline.ca.proto.IstioCertificateResponse;
import dev.bowline.ca.proto.IstioCertificateServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.jspecify.annotations.Nullable;

/** Keys, CSRs, a settable clock and gRPC clients for the CA tests. */
final class TestPki {
  private TestPki() {}

  static KeyPair ec() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static KeyPair rsa(int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(bits);
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String sigAlg(PrivateKey key) {
    return key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
  }

  /** A PEM CSR for {@code pair} asking for {@code uris} (none: no subjectAltName). */
  static String csr(KeyPair pair, String... uris) {
    return Pem.encode("CERTIFICATE REQUEST", csrDer(pair, uris));
  }

  static byte[] csrDer(KeyPair pair, String... uris) {
    try {
      var b = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=test"), pair.getPublic());
      if (uris.length > 0) {
        GeneralName[] names = new GeneralName[uris.length];
        for (int i = 0; i < uris.length; i++) {
          names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, uris[i]);
        }
        ExtensionsGenerator eg = new ExtensionsGenerator();
        eg.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
        b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, eg.generate());
      }
      return b.build(
              new JcaContentSignerBuilder(sigAlg(pair.getPrivate())).build(pair.getPrivate()))
          .getEncoded();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static List<X509Certificate> parse(String pem) {
    try {
      List<X509Certificate> out = new ArrayList<>();
      for (var c :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        out.add((X509Certificate) c);
      }
      return out;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every certificate of a response chain, leaf first. */
  static List<X509Certificate> parseChain(List<String> pems) {
    List<X509Certificate> out = new ArrayList<>();
    for (String p : pems) {
      out.addAll(parse(p));
    }
    return out;
  }

  /** A CA certificate: self-signed when {@code issuerKey} is null. */
  static X509Certificate caCert(
      String cn, KeyPair pair, @Nullable X509Certificate issuer, @Nullable PrivateKey issuerKey) {
    try {
      X500Name subject = new X500Name("O=cluster.local,CN=" + cn);
      X500Name issuerName =
          issuer == null
              ? subject
              : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
      Instant now = Instant.now();
      var ext = new JcaX509ExtensionUtils();
      var b =
          new JcaX509v3CertificateBuilder(
                  issuerName,
                  BigInteger.valueOf(now.toEpochMilli()),
                  Date.from(now.minus(Duration.ofHours(1))),
                  Date.from(now.plus(Duration.ofDays(365))),
                  subject,
                  pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()));
      PrivateKey signer = issuerKey == null ? pair.getPrivate() : issuerKey;
      return new JcaX509CertificateConverter()
          .getCertificate(b.build(new JcaContentSignerBuilder(sigAlg(signer)).build(signer)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A TLS channel to the CA on loopback, verifying it against {@code roots}. */
  static ManagedChannel channel(
      int port,
      List<X509Certificate> roots,
      @Nullable PrivateKey clientKey,
      List<X509Certificate> clientChain) {
    try {
      SslContextBuilder ssl =
          GrpcSslContexts.forClient().trustManager(roots.toArray(X509Certificate[]::new));
      if (clientKey != null) {
        ssl.keyManager(clientKey, clientChain.toArray(X509Certificate[]::new));
      }
      return NettyChannelBuilder.forAddress("127.0.0.1", port)
          .overrideAuthority("istiod.istio-system.svc")
          .sslContext(ssl.build())
          .build();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static void close(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A blocking stub that sends {@code authorization} (null: no such metadata). */
  static IstioCertificateServiceGrpc.IstioCertificateServiceBlockingStub stub(
      Channel channel, @Nullable String authorization) {
    Channel c = channel;
    if (authorization != null) {
      c = ClientInterceptors.intercept(channel, header("authorization", authorization));
    }
    return IstioCertificateServiceGrpc.newBlockingStub(c).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  static IstioCertificateResponse request(
      IstioCertificateServiceGrpc.IstioCertificateServiceBlockingStub stub,
      String csr,
      long validitySeconds) {
    return stub.createCertificate(
        IstioCertificateRequest.newBuilder()
            .setCsr(csr)
            .setValidityDuration(validitySeconds)
            .build());
  }

  private static ClientInterceptor header(String name, String value) {
    Metadata.Key<String> key = Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            headers.put(key, value);
            super.start(listener, headers);
          }
        };
      }
    };
  }

  /** A clock tests move by hand. */
  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void set(Instant instant) {
      now = instant;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
