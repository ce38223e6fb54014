package dev.bowline.controlplane.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One generated resource, packed once and shared by every connection it is sent to.
 *
 * @param name the resource name
 * @param message the resource
 * @param any the resource packed for the wire
 * @param version a hash of its content: the delta protocol's per-resource version
 * @param delta the delta protocol's {@code Resource} (name, version, packed resource), built once
 *     so equivalent delta streams don't build it each
 */
record GeneratedResource(String name, Message message, Any any, String version, Resource delta) {
  static GeneratedResource of(String name, Message message) {
    Any packed = Any.pack(message);
    // Strings held as UTF-8 bytes: written to every stream, encoded once.
    Any any =
        Any.newBuilder()
            .setTypeUrlBytes(ByteString.copyFromUtf8(packed.getTypeUrl()))
            .setValue(packed.getValue())
            .build();
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(any.getValue().toByteArray());
      String version = HexFormat.of().formatHex(digest, 0, 8);
      return new GeneratedResource(
          name,
          message,
          any,
          version,
          Resource.newBuilder()
              .setNameBytes(ByteString.copyFromUtf8(name))
              .setVersionBytes(ByteString.copyFromUtf8(version))
              .setResource(any)
              .build());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
