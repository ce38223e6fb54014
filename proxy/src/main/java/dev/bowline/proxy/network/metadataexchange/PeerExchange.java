package dev.bowline.proxy.network.metadataexchange;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.bowline.proxy.http.filter.metadataexchange.PeerInfo;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The connection-level result of the TCP exchange, kept on the downstream channel (Envoy's
 * connection filter state {@code wasm.downstream_peer} / {@code wasm.upstream_peer}), and the
 * exchange's wire frame: a 4-byte magic {@code 0x3D230467} and a 4-byte length, both big-endian,
 * then that many bytes of a serialized {@code google.protobuf.Any} holding a {@code Struct} with
 * {@code x-envoy-peer-metadata} (the node's exchanged metadata) and {@code
 * x-envoy-peer-metadata-id} (its node id).
 */
public final class PeerExchange {
  private PeerExchange() {}

  /** The frame's magic number. */
  public static final int MAGIC = 0x3D230467;

  /** Magic and length. */
  public static final int HEADER_BYTES = 8;

  static final String STRUCT_TYPE_URL = "type.googleapis.com/google.protobuf.Struct";
  static final String METADATA_KEY = "x-envoy-peer-metadata";
  static final String ID_KEY = "x-envoy-peer-metadata-id";

  /**
   * The downstream peer learned on this connection; {@link PeerInfo#NONE} when the exchange did not
   * happen (another ALPN, no frame); absent while it may still happen.
   */
  public static final AttributeKey<PeerInfo> DOWNSTREAM_PEER =
      AttributeKey.valueOf("bowline.wasm.downstream_peer");

  /** The upstream peer of the connection's TCP proxy, on the downstream channel; as above. */
  public static final AttributeKey<PeerInfo> UPSTREAM_PEER =
      AttributeKey.valueOf("bowline.wasm.upstream_peer");

  /** The user event fired on the downstream pipeline when a peer attribute is set. */
  public enum Event {
    /** {@link #DOWNSTREAM_PEER} or {@link #UPSTREAM_PEER} was just set. */
    PEER_DECIDED
  }

  /** The peer recorded on {@code downstream} for {@code key}, null while undecided. */
  public static @Nullable PeerInfo peer(Channel downstream, AttributeKey<PeerInfo> key) {
    return downstream.attr(key).get();
  }

  /** The whole frame telling a peer about node {@code id} with node metadata {@code metadata}. */
  public static byte[] frame(String id, Struct metadata) {
    Struct.Builder data = Struct.newBuilder();
    data.putFields(METADATA_KEY, Value.newBuilder().setStructValue(metadata).build());
    if (!id.isEmpty()) {
      data.putFields(ID_KEY, Value.newBuilder().setStringValue(id).build());
    }
    byte[] any =
        Any.newBuilder()
            .setTypeUrl(STRUCT_TYPE_URL)
            .setValue(data.build().toByteString())
            .build()
            .toByteArray();
    return ByteBuffer.allocate(HEADER_BYTES + any.length)
        .putInt(MAGIC)
        .putInt(any.length)
        .put(any)
        .array();
  }

  /**
   * The peer in the {@code length} bytes of {@code in} from its reader index (the frame's body),
   * null when they are not an {@code Any} of a {@code Struct}.
   */
  static @Nullable PeerInfo decode(ByteBuf in, int length) {
    byte[] bytes = new byte[length];
    in.getBytes(in.readerIndex(), bytes);
    try {
      Any any = Any.parseFrom(bytes);
      if (!any.getTypeUrl().equals(STRUCT_TYPE_URL)) {
        return null;
      }
      Struct data = Struct.parseFrom(any.getValue());
      Value md = data.getFieldsOrDefault(METADATA_KEY, Value.getDefaultInstance());
      Value id = data.getFieldsOrDefault(ID_KEY, Value.getDefaultInstance());
      return PeerInfo.of(
          id.hasStringValue() ? id.getStringValue() : "",
          md.hasStructValue() ? md.getStructValue() : Struct.getDefaultInstance());
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }
}
