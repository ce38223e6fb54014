package dev.bowline.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.bowline.proxy.bootstrap.BootstrapLoader;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.grpc.Server;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SDS on the ADS stream ({@code sds_config: {ads: {}}}) from java-control-plane's {@code
 * SimpleCache} fed raw Envoy protos, nothing of Istio: a TLS listener whose secret has not arrived
 * refuses connections, serves once it arrives, and a new secret version reaches new handshakes
 * while a connection made before keeps working on the old certificate.
 */
class AdsSdsProxyTest {
  static final String IP = "127.0.16.40";
  static final String SECRET = "kubernetes://web-cert";

  final TestPki pki = new TestPki("ads-sds-root");
  Backend backend;
  SimpleCache<String> cache;
  Server xds;
  int listenPort;
  Proxy proxy;

  @BeforeEach
  void start() throws Exception {
    backend = new Backend("b", "127.0.16.41");
    int xdsPort = Ports.free(IP);
    listenPort = Ports.free(IP);
    cache = new SimpleCache<>(node -> "all");
    xds = AdsBootstrap.server(IP, xdsPort, cache);
    String bootstrap = AdsBootstrap.yaml("ads-sds~1", IP, xdsPort);
    proxy =
        Proxy.start(
            new BootstrapLoader().parse("ads-sds.yaml", bootstrap),
            ProxyOptions.defaults()
                .withWorkers(1)
                .withXdsBackoff(Duration.ofMillis(50), Duration.ofMillis(400)));
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    xds.shutdownNow().awaitTermination();
    backend.close();
  }

  Listener tlsListener() {
    HttpConnectionManager hcm =
        HttpConnectionManager.newBuilder()
            .setStatPrefix("https")
            .setRds(Rds.newBuilder().setRouteConfigName("r").setConfigSource(XdsProxyTest.ADS))
            .addHttpFilters(
                HttpFilter.newBuilder()
                    .setName("envoy.filters.http.router")
                    .setTypedConfig(Any.pack(Router.getDefaultInstance())))
            .build();
    DownstreamTlsContext tls =
        DownstreamTlsContext.newBuilder()
            .setCommonTlsContext(
                CommonTlsContext.newBuilder()
                    .addTlsCertificateSdsSecretConfigs(
                        SdsSecretConfig.newBuilder()
                            .setName(SECRET)
                            .setSdsConfig(XdsProxyTest.ADS)))
            .build();
    return Listener.newBuilder()
        .setName("https")
        .setAddress(XdsProxyTest.address(IP, listenPort))
        .addFilterChains(
            FilterChain.newBuilder()
                .setTransportSocket(
                    TransportSocket.newBuilder()
                        .setName("envoy.transport_sockets.tls")
                        .setTypedConfig(Any.pack(tls)))
                .addFilters(
                    Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm))))
        .build();
  }

  static Secret secret(TestPki.Issued c) {
    return Secret.newBuilder()
        .setName(SECRET)
        .setTlsCertificate(
            TlsCertificate.newBuilder()
                .setCertificateChain(
                    DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(c.certPem())))
                .setPrivateKey(
                    DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(c.keyPem()))))
        .build();
  }

  void publish(String version, List<Secret> secrets) {
    cache.setSnapshot(
        "all",
        Snapshot.create(
            List.of(XdsProxyTest.edsCluster("c")),
            List.of(XdsProxyTest.endpoints("c", backend)),
            List.of(tlsListener()),
            List.of(XdsProxyTest.routes("r", XdsProxyTest.toCluster("/", "c"))),
            secrets,
            version));
  }

  @Test
  void aSecretOnTheAdsStreamWarmsTheChainAndRotatesWithoutDroppingConnections() throws Exception {
    publish("1", List.of());
    // the listener is up but its secret has not arrived: the handshake is refused
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> proxy.secrets().all().isEmpty() && listening());
    assertThatThrownBy(() -> handshake().close()).isInstanceOf(IOException.class);

    TestPki.Issued first = pki.issue("web.example.com");
    publish("2", List.of(secret(first)));
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> serialOfNewHandshake().equals(first.cert().getSerialNumber()));

    try (SSLSocket open = handshake()) {
      assertThat(request(open)).isEqualTo(200);
      TestPki.Issued second = pki.issue("web.example.com");
      publish("3", List.of(secret(second)));
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .until(() -> serialOfNewHandshake().equals(second.cert().getSerialNumber()));
      assertThat(request(open)).isEqualTo(200);
      assertThat(((X509Certificate) open.getSession().getPeerCertificates()[0]).getSerialNumber())
          .isEqualTo(first.cert().getSerialNumber());
    }
  }

  boolean listening() {
    try (var s = new java.net.Socket(IP, listenPort)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  BigInteger serialOfNewHandshake() throws Exception {
    try (SSLSocket s = handshake()) {
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  SSLSocket handshake() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", pki.root);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(IP, listenPort);
    s.setSoTimeout(3000);
    s.startHandshake();
    return s;
  }

  static int request(SSLSocket s) throws IOException {
    s.getOutputStream()
        .write("GET / HTTP/1.1\r\nHost: web\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1));
    String status = in.readLine();
    int length = 0;
    for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).strip());
      }
    }
    in.skip(length);
    return Integer.parseInt(status.split(" ")[1]);
  }
}
