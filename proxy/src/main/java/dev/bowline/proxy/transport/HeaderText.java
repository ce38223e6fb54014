package dev.bowline.proxy.transport;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a message's header lines ({@code name: value\r\n} each) as Netty's HTTP/1 encoder does,
 * byte for byte, but through one heap array and one bulk write into the (direct) buffer. Netty's
 * encoder writes a {@code String} value one character at a time into the direct buffer, each a call
 * through the pooled buffer to its root ({@code writeAsciiCharSequence}: 5% of the event loop's
 * Java samples); here the characters go into an array, in a loop the JIT keeps tight. As in Netty,
 * a character above U+00FF is written as {@code '?'}. One per codec: event loop only.
 */
final class HeaderText {
  private byte[] scratch = new byte[512];

  /** Appends the header lines of {@code headers} to {@code buf}. */
  void encode(HttpHeaders headers, ByteBuf buf) {
    byte[] b = scratch;
    int n = 0;
    Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
    while (it.hasNext()) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      CharSequence name = e.getKey();
      CharSequence value = e.getValue();
      int need = n + name.length() + value.length() + 4;
      if (need > b.length) {
        b = Arrays.copyOf(b, Math.max(need, b.length * 2));
        scratch = b;
      }
      n = put(name, b, n);
      b[n++] = ':';
      b[n++] = ' ';
      n = put(value, b, n);
      b[n++] = '\r';
      b[n++] = '\n';
    }
    buf.writeBytes(b, 0, n);
  }

  private static int put(CharSequence s, byte[] b, int at) {
    int len = s.length();
    if (s instanceof AsciiString a) {
      System.arraycopy(a.array(), a.arrayOffset(), b, at, len);
    } else {
      for (int i = 0; i < len; i++) {
        char c = s.charAt(i);
        b[at + i] = c > 0xFF ? (byte) '?' : (byte) c; // Netty's AsciiString.c2b
      }
    }
    return at + len;
  }
}
