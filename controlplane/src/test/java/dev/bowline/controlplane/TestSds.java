package dev.bowline.controlplane;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The agent's part for tests of meshed proxies: a root CA and an SDS server (gRPC {@code
 * StreamSecrets} on a loopback TCP port, the {@code sds-grpc} cluster of the proxies' bootstraps)
 * serving {@code ROOTCA} and, as {@code default}, a certificate for the SPIFFE id of the node's
 * namespace and service account (taken from the node id {@code sidecar~ip~name.ns~...}: the service
 * account is the name up to its first {@code -}).
 */
final class TestSds implements AutoCloseable {
  private final KeyPair rootKey = ec();
  private final X509Certificate root;
  private final AtomicLong serial = new AtomicLong(1);
  private final Server server;

  TestSds(String ip) throws IOException {
    root = rootCert();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress(ip, 0))
            .addService(new Sds())
            .build()
            .start();
  }

  int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.shutdownNow();
  }

  /** The bootstrap's {@code sds-grpc} cluster (YAML, indented for a clusters list). */
  String cluster(String ip) {
    return """
          - name: sds-grpc
            type: STATIC
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: sds-grpc
              endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %d}}}}]}]
        """
        .formatted(ip, port());
  }

  private final class Sds extends SecretDiscoveryServiceGrpc.SecretDiscoveryServiceImplBase {
    @Override
    public StreamObserver<DiscoveryRequest> streamSecrets(StreamObserver<DiscoveryResponse> out) {
      return new StreamObserver<>() {
        String spiffe = "";
        List<String> sent = List.of();
        int version;

        @Override
        public void onNext(DiscoveryRequest r) {
          if (r.hasNode()) {
            String[] id = r.getNode().getId().split("~");
            String[] nameNs = id[2].split("\\.");
            String sa = nameNs[0].split("-")[0];
            spiffe = "spiffe://cluster.local/ns/" + nameNs[1] + "/sa/" + sa;
          }
          if (r.getResourceNamesList().equals(sent)) {
            return; // an ACK
          }
          sent = List.copyOf(r.getResourceNamesList());
          DiscoveryResponse.Builder b =
              DiscoveryResponse.newBuilder()
                  .setTypeUrl(r.getTypeUrl())
                  .setVersionInfo("v" + ++version)
                  .setNonce("n" + version);
          for (String name : sent) {
            b.addResources(com.google.protobuf.Any.pack(secret(name, spiffe)));
          }
          synchronized (out) {
            out.onNext(b.build());
          }
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }
  }

  private Secret secret(String name, String spiffe) {
    if (name.equals("ROOTCA")) {
      return Secret.newBuilder()
          .setName(name)
          .setValidationContext(
              CertificateValidationContext.newBuilder()
                  .setTrustedCa(DataSource.newBuilder().setInlineString(pem(root))))
          .build();
    }
    KeyPair key = ec();
    return Secret.newBuilder()
        .setName(name)
        .setTlsCertificate(
            TlsCertificate.newBuilder()
                .setCertificateChain(
                    DataSource.newBuilder().setInlineString(pem(issue(spiffe, key))))
                .setPrivateKey(
                    DataSource.newBuilder()
                        .setInlineString(
                            pem(
                                new org.bouncycastle.util.io.pem.PemObject(
                                    "PRIVATE KEY", key.getPrivate().getEncoded())))))
        .build();
  }

  private X509Certificate rootCert() {
    X500Name subject = new X500Name("CN=test-mesh-root");
    try {
      return sign(
          new JcaX509v3CertificateBuilder(
                  subject,
                  BigInteger.valueOf(serial.getAndIncrement()),
                  Date.from(Instant.now().minus(Duration.ofMinutes(5))),
                  Date.from(Instant.now().plus(Duration.ofDays(1))),
                  subject,
                  rootKey.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private X509Certificate issue(String spiffe, KeyPair key) {
    try {
      return sign(
          new JcaX509v3CertificateBuilder(
                  new X500Name("CN=test-mesh-root"),
                  BigInteger.valueOf(serial.getAndIncrement()),
                  Date.from(Instant.now().minus(Duration.ofMinutes(2))),
                  Date.from(Instant.now().plus(Duration.ofHours(2))),
                  new X500Name(""),
                  key.getPublic())
              .addExtension(
                  Extension.subjectAlternativeName,
                  true,
                  new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffe)))
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(
                  Extension.keyUsage,
                  true,
                  new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      })));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private X509Certificate sign(org.bouncycastle.cert.X509v3CertificateBuilder b) throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
  }

  private static KeyPair ec() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(Object o) {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return w.toString();
  }
}
