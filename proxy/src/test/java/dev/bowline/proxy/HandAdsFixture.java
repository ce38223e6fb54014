package dev.bowline.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The shared set-up of a test class whose proxy takes everything by ADS from a {@link HandAds}
 * server: before each test a backend {@link #a}, the server {@link #xds} on {@code xdsIp}, a free
 * {@link #listenPort} on {@code listenIp} for the listener the test sends, and a proxy ({@link
 * #proxy}, node {@code node}, admin on {@code xdsIp}:{@link #adminPort}) whose ADS stream is open;
 * after each, all of them closed. A class extends it, names its addresses and node in its
 * constructor, and overrides {@link #options} where it needs more than one worker's defaults. Its
 * own {@code @BeforeEach} runs after this one's, its {@code @AfterEach} before.
 */
abstract class HandAdsFixture {
  static final String CDS = HandAds.CDS;
  static final String EDS = HandAds.EDS;
  static final String LDS = HandAds.LDS;
  static final String RDS = HandAds.RDS;

  private final String xdsIp;
  private final String listenIp;
  private final String backendIp;
  private final String node;

  Backend a;
  HandAds xds;
  int listenPort;
  int adminPort;
  Proxy proxy;

  HandAdsFixture(String xdsIp, String listenIp, String backendIp, String node) {
    this.xdsIp = xdsIp;
    this.listenIp = listenIp;
    this.backendIp = backendIp;
    this.node = node;
  }

  /** The proxy's options: one worker, the defaults otherwise. */
  ProxyOptions options() {
    return ProxyOptions.defaults().withWorkers(1);
  }

  @BeforeEach
  final void startHandAdsProxy() throws Exception {
    a = new Backend("a", backendIp);
    xds = new HandAds(xdsIp);
    adminPort = Ports.free(xdsIp);
    listenPort = Ports.free(listenIp);
    proxy = xds.startProxy(node, adminPort, options());
  }

  @AfterEach
  final void stopHandAdsProxy() throws Exception {
    proxy.close();
    xds.close();
    a.close();
  }
}
