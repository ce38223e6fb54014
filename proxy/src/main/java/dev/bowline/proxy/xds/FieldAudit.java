package dev.bowline.proxy.xds;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds the fields a resource sets that the proxy does not act on. Control planes (Istio above all)
 * set many fields this proxy does not implement yet (retry policies, circuit breakers, access logs,
 * tracing); refusing them would refuse every such resource, so they are accepted and reported
 * instead: a warning per kind and field, once, and a count in the stats. Nothing is dropped
 * silently.
 *
 * <p>{@code honoured} holds dotted field paths (proto names, no indexes). A set field is honoured
 * when its path is listed; a message field whose path prefixes listed paths is walked into.
 */
final class FieldAudit {
  private FieldAudit() {}

  /** The fields {@code m} (of type {@code type}) sets that are not {@code honoured}. */
  static Set<String> ignored(Message m, Descriptor type, Set<String> honoured) {
    Set<String> out = new TreeSet<>();
    walk(dynamic(m, type), "", honoured, walkedInto(honoured), out);
    return out;
  }

  /**
   * The same for a resource whose serialised bytes the caller still holds (the xDS response's): the
   * dynamic copy is parsed from them, without serialising {@code m} again.
   */
  static Set<String> ignored(
      Message m, com.google.protobuf.ByteString bytes, Descriptor type, Set<String> honoured) {
    Message dynamic;
    try {
      dynamic = m instanceof DynamicMessage ? m : DynamicMessage.parseFrom(type, bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("re-parsing " + type.getFullName(), e);
    }
    Set<String> out = new TreeSet<>();
    walk(dynamic, "", honoured, walkedInto(honoured), out);
    return out;
  }

  /**
   * Every proper prefix of a listed path, with its trailing dot ({@code a.b.c} gives {@code a.} and
   * {@code a.b.}): the message fields walked into. One set lookup per field instead of a scan of
   * {@code honoured}, which made the audit of a 2,000-host route table quadratic-ish.
   */
  private static Set<String> walkedInto(Set<String> honoured) {
    Set<String> prefixes = new java.util.HashSet<>();
    for (String h : honoured) {
      for (int dot = h.indexOf('.'); dot >= 0; dot = h.indexOf('.', dot + 1)) {
        prefixes.add(h.substring(0, dot + 1));
      }
    }
    return prefixes;
  }

  /**
   * {@code m} as a {@link DynamicMessage}: {@code getAllFields()} of a generated message resolves
   * every field of its type (and of each nested type walked) by reflection, loading their builder
   * classes and keeping thousands of {@code Method}s; a dynamic copy reads the descriptors only
   * (decision 0030). Costs one serialisation per resource, on the config thread. The type comes
   * from the caller: {@code getDescriptorForType()} of a generated message builds those same
   * reflective accessors (decision 0036).
   */
  private static Message dynamic(Message m, Descriptor type) {
    if (m instanceof DynamicMessage) {
      return m;
    }
    try {
      return DynamicMessage.parseFrom(type, m.toByteString());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("re-parsing " + type.getFullName(), e);
    }
  }

  private static void walk(
      Message m, String prefix, Set<String> honoured, Set<String> walkedInto, Set<String> out) {
    for (var e : m.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      String path = prefix + f.getName();
      if (honoured.contains(path)) {
        continue;
      }
      String inner = path + ".";
      boolean walkInto =
          f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && walkedInto.contains(inner);
      if (!walkInto) {
        out.add(path);
        continue;
      }
      if (f.isRepeated()) {
        for (Object o : (List<?>) e.getValue()) {
          walk((Message) o, inner, honoured, walkedInto, out);
        }
      } else {
        walk((Message) e.getValue(), inner, honoured, walkedInto, out);
      }
    }
  }
}
