package dev.bowline.proxy;

/** Every scenario of {@link XdsProxyTest} over the incremental (delta) ADS protocol. */
class DeltaXdsProxyTest extends XdsProxyTest {
  @Override
  String apiType() {
    return "DELTA_GRPC";
  }
}
