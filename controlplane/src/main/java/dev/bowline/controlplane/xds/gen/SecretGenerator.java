package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.bowline.controlplane.model.CredentialSecret;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * SDS over ADS for {@code credentialName} secrets, as istiod's secret generator:
 *
 * <ul>
 *   <li>names are {@code kubernetes://<name>} or {@code kubernetes://<namespace>/<name>}; without a
 *       namespace the Secret is in the proxy's namespace;
 *   <li>{@code <name>-cacert} is the CA bundle: the Secret {@code <name>-cacert} if it exists (its
 *       {@code cacert} or {@code ca.crt}), else the {@code ca.crt}/{@code cacert} of {@code
 *       <name>}; it becomes a {@code validation_context}; any other name a {@code tls_certificate}
 *       (chain and key inline);
 *   <li>a proxy gets only Secrets of its own namespace (istiod's rule without a
 *       SubjectAccessReview: a gateway reads the Secrets of the namespace it runs in);
 * </ul>
 *
 * A name that is not served (unknown, not authorized, no TLS material) is left out, so the proxy's
 * listener keeps refusing TLS until it appears. Only explicitly requested names: SDS has no
 * wildcard. Nothing here logs a secret's content.
 */
final class SecretGenerator implements XdsGenerator {
  private static final System.Logger LOG = System.getLogger(SecretGenerator.class.getName());

  static final String PREFIX = "kubernetes://";
  static final String CA_SUFFIX = "-cacert";

  @Override
  public SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names) {
    SortedMap<String, Message> out = new TreeMap<>();
    if (names.wildcard()) {
      return out;
    }
    var gateways = push.config().gateways();
    for (String requested : names.names()) {
      if (!requested.startsWith(PREFIX)) {
        continue;
      }
      String rest = requested.substring(PREFIX.length());
      int slash = rest.indexOf('/');
      String namespace = slash < 0 ? proxy.namespace() : rest.substring(0, slash);
      String name = slash < 0 ? rest : rest.substring(slash + 1);
      if (!namespace.equals(proxy.namespace())) {
        LOG.log(
            Level.WARNING,
            "event=sds_unauthorized proxy={0} secret={1} reason=\"a proxy reads only the Secrets of"
                + " its namespace {2}\"",
            proxy.id(),
            requested,
            proxy.namespace());
        continue;
      }
      if (name.endsWith(CA_SUFFIX)) {
        String base = name.substring(0, name.length() - CA_SUFFIX.length());
        Optional<String> ca =
            gateways
                .secret(namespace, name)
                .flatMap(CredentialSecret::caPem)
                .or(() -> gateways.secret(namespace, base).flatMap(CredentialSecret::caPem));
        ca.ifPresent(
            pem ->
                out.put(
                    requested,
                    Secret.newBuilder()
                        .setName(requested)
                        .setValidationContext(
                            CertificateValidationContext.newBuilder().setTrustedCa(inline(pem)))
                        .build()));
        if (ca.isPresent()) {
          continue;
        }
      }
      Optional<CredentialSecret> s = gateways.secret(namespace, name);
      if (s.isPresent() && s.get().chainPem().isPresent() && s.get().keyPem().isPresent()) {
        out.put(
            requested,
            Secret.newBuilder()
                .setName(requested)
                .setTlsCertificate(
                    TlsCertificate.newBuilder()
                        .setCertificateChain(inline(s.get().chainPem().get()))
                        .setPrivateKey(inline(s.get().keyPem().get())))
                .build());
      } else {
        LOG.log(
            Level.DEBUG, "event=sds_secret_missing proxy={0} secret={1}", proxy.id(), requested);
      }
    }
    return out;
  }

  private static DataSource inline(String pem) {
    return DataSource.newBuilder()
        .setInlineBytes(ByteString.copyFrom(pem, StandardCharsets.UTF_8))
        .build();
  }
}
