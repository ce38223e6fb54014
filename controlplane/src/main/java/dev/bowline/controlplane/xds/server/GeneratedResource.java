package dev.bowline.controlplane.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
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
 */
record GeneratedResource(String name, Message message, Any any, String version) {
  static GeneratedResource of(String name, Message message) {
    Any any = Any.pack(message);
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(any.getValue().toByteArray());
      return new GeneratedResource(name, message, any, HexFormat.of().formatHex(digest, 0, 8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
