package dev.bowline.proxy.config;

import java.net.InetAddress;

/** An address prefix such as {@code 10.0.0.0/8}; built from IP literals only. */
public record CidrRange(byte[] prefix, int length) {
  /** Parses {@code ip} (a literal) with {@code length} bits. */
  public static CidrRange of(String ip, int length) {
    byte[] bytes = literal(ip);
    if (length < 0 || length > bytes.length * 8) {
      throw new IllegalArgumentException("prefix_len " + length + " too long for " + ip);
    }
    return new CidrRange(bytes, length);
  }

  boolean contains(String ip) {
    byte[] a;
    try {
      a = literal(ip);
    } catch (IllegalArgumentException e) {
      return false;
    }
    return contains(a);
  }

  /** Whether address {@code a} (4 or 16 bytes) is in this range. */
  public boolean contains(byte[] a) {
    if (a.length != prefix.length) {
      return false;
    }
    int full = length / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != prefix[i]) {
        return false;
      }
    }
    int rest = length % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[full] & mask) == (prefix[full] & mask);
  }

  private static byte[] literal(String ip) {
    if (ip.isEmpty() || !(Character.digit(ip.charAt(0), 16) >= 0 || ip.charAt(0) == ':')) {
      throw new IllegalArgumentException("not an IP literal: " + ip);
    }
    try {
      return InetAddress.ofLiteral(ip).getAddress();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not an IP literal: " + ip, e);
    }
  }
}
