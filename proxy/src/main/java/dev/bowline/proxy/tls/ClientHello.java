package dev.bowline.proxy.tls;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@code tls_inspector} reads from a TLS ClientHello: the server name (SNI) and the offered
 * ALPN protocols. Reads without consuming.
 *
 * @param serverName the {@code host_name} of the server_name extension, empty if none
 * @param alpn the protocols of the ALPN extension, in the client's order
 */
public record ClientHello(String serverName, List<String> alpn) {
  /** Largest ClientHello accepted (Envoy's tls_inspector allows 16 KiB plus headers). */
  static final int MAX_SIZE = 64 * 1024;

  public ClientHello {
    alpn = List.copyOf(alpn);
  }

  /** The outcome of looking at the bytes buffered so far. */
  sealed interface Result {}

  /** More bytes are needed. */
  record NeedMore() implements Result {}

  /** Not a TLS ClientHello (or a malformed one). */
  record NotTls(String why) implements Result {}

  /** A complete ClientHello. */
  record Found(ClientHello hello) implements Result {}

  /** Reads the ClientHello at the start of {@code in} (which may hold several TLS records). */
  static Result read(ByteBuf in) {
    int start = in.readerIndex();
    int end = in.writerIndex();
    if (end - start < 1) {
      return new NeedMore();
    }
    if (in.getUnsignedByte(start) != 22) {
      return new NotTls("not a TLS handshake record");
    }
    // Gather the handshake message across records.
    byte[] msg = null;
    int have = 0;
    int pos = start;
    int want = -1;
    while (true) {
      if (end - pos < 5) {
        return new NeedMore();
      }
      if (in.getUnsignedByte(pos) != 22) {
        return new NotTls("handshake split by a non-handshake record");
      }
      int major = in.getUnsignedByte(pos + 1);
      if (major != 3) {
        return new NotTls("unknown record version");
      }
      int len = in.getUnsignedShort(pos + 3);
      if (len == 0 || len > 16384 + 2048) {
        return new NotTls("bad record length " + len);
      }
      if (end - pos - 5 < len) {
        return new NeedMore();
      }
      if (msg == null) {
        if (len < 4) {
          return new NotTls("record too short");
        }
        if (in.getUnsignedByte(pos + 5) != 1) {
          return new NotTls("first handshake message is not a ClientHello");
        }
        want = 4 + in.getUnsignedMedium(pos + 6);
        if (want > MAX_SIZE) {
          return new NotTls("ClientHello too large");
        }
        msg = new byte[want];
      }
      int take = Math.min(len, want - have);
      in.getBytes(pos + 5, msg, have, take);
      have += take;
      pos += 5 + len;
      if (have == want) {
        break;
      }
    }
    ClientHello hello = parse(msg);
    return hello == null ? new NotTls("malformed ClientHello") : new Found(hello);
  }

  private static @Nullable ClientHello parse(byte[] m) {
    try {
      int p = 4 + 2 + 32; // header, client_version, random
      p += 1 + (m[p] & 0xff); // session_id
      p += 2 + u16(m, p); // cipher_suites
      p += 1 + (m[p] & 0xff); // compression_methods
      if (p == m.length) {
        return new ClientHello("", List.of()); // no extensions
      }
      int extEnd = p + 2 + u16(m, p);
      p += 2;
      if (extEnd > m.length) {
        return null;
      }
      String sni = "";
      List<String> alpn = new ArrayList<>();
      while (p + 4 <= extEnd) {
        int type = u16(m, p);
        int len = u16(m, p + 2);
        int d = p + 4;
        if (d + len > extEnd) {
          return null;
        }
        if (type == 0) { // server_name
          int q = d + 2;
          int listEnd = Math.min(d + 2 + u16(m, d), d + len);
          while (q + 3 <= listEnd) {
            int nameType = m[q] & 0xff;
            int nameLen = u16(m, q + 1);
            if (q + 3 + nameLen > listEnd) {
              return null;
            }
            if (nameType == 0 && sni.isEmpty()) {
              sni = new String(m, q + 3, nameLen, StandardCharsets.US_ASCII);
            }
            q += 3 + nameLen;
          }
        } else if (type == 16) { // application_layer_protocol_negotiation
          int q = d + 2;
          int listEnd = Math.min(d + 2 + u16(m, d), d + len);
          while (q + 1 <= listEnd) {
            int l = m[q] & 0xff;
            if (q + 1 + l > listEnd) {
              return null;
            }
            alpn.add(new String(m, q + 1, l, StandardCharsets.US_ASCII));
            q += 1 + l;
          }
        }
        p = d + len;
      }
      return new ClientHello(sni, alpn);
    } catch (ArrayIndexOutOfBoundsException e) {
      return null;
    }
  }

  private static int u16(byte[] m, int p) {
    return ((m[p] & 0xff) << 8) | (m[p + 1] & 0xff);
  }
}
