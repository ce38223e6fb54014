package dev.bowline.proxy.config;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;

/**
 * {@link Any#unpack(Class)} without protobuf's reflection.
 *
 * <p>{@code Any.unpack} and {@code Any.is} compare the type URL with {@code getDescriptorForType()}
 * of the class's default instance, and on a generated message that call initialises the type's
 * reflective field accessors: a {@code java.lang.reflect.Method} for every accessor of the message
 * and of its builder, which loads the builder class of every field type on the way. For the
 * benchmark's one-listener bootstrap that was ~8,000 live {@code Method}s and ~340 builder classes
 * loaded that nothing else uses (decision 0036). The generated static {@code getDescriptor()} reads
 * the file's descriptor only, and the generated parser needs no descriptor at all.
 */
public final class Anys {
  private Anys() {}

  /**
   * What {@code any.unpack(T.class)} returns: {@code any}'s value parsed by {@code parser} if its
   * type URL names {@code type} (e.g. {@code unpack(any, Router.getDescriptor(),
   * Router.parser())}).
   *
   * @throws InvalidProtocolBufferException as {@code Any.unpack} does: another type (with its
   *     message), or bytes that do not parse
   */
  public static <T extends Message> T unpack(Any any, Descriptor type, Parser<T> parser)
      throws InvalidProtocolBufferException {
    if (!is(any, type)) {
      throw new InvalidProtocolBufferException(
          "Type of the Any message does not match the given class.");
    }
    return parser.parseFrom(any.getValue());
  }

  /**
   * What {@code any.is(T.class)} returns: whether the type URL's last segment names {@code type}.
   */
  public static boolean is(Any any, Descriptor type) {
    String url = any.getTypeUrl();
    int slash = url.lastIndexOf('/');
    return slash >= 0 && url.substring(slash + 1).equals(type.getFullName());
  }
}
