package dev.bowline.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import org.junit.jupiter.api.Test;

class AnysTest {
  @Test
  void unpacksWhatAnyUnpackUnpacks() throws Exception {
    Any any = Any.pack(TcpProxy.newBuilder().setStatPrefix("in").setCluster("backend").build());

    TcpProxy t = Anys.unpack(any, TcpProxy.getDescriptor(), TcpProxy.parser());

    assertThat(t).isEqualTo(any.unpack(TcpProxy.class));
    assertThat(t.getCluster()).isEqualTo("backend");
  }

  @Test
  void anotherTypeFailsAsAnyUnpackFails() {
    Any any = Any.pack(Router.getDefaultInstance());

    Throwable ours =
        org.assertj.core.api.Assertions.catchThrowable(
            () -> Anys.unpack(any, TcpProxy.getDescriptor(), TcpProxy.parser()));
    Throwable theirs =
        org.assertj.core.api.Assertions.catchThrowable(() -> any.unpack(TcpProxy.class));

    assertThat(ours)
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessage(theirs.getMessage());
    assertThat(Anys.is(any, Router.getDescriptor())).isTrue();
    assertThat(Anys.is(any, TcpProxy.getDescriptor())).isFalse();
  }

  @Test
  void aTypeUrlWithoutSlashNamesNoType() {
    Any any = Any.newBuilder().setTypeUrl(Router.getDescriptor().getFullName()).build();

    assertThat(Anys.is(any, Router.getDescriptor())).isFalse();
    assertThatThrownBy(() -> Anys.unpack(any, Router.getDescriptor(), Router.parser()))
        .isInstanceOf(InvalidProtocolBufferException.class);
  }
}
