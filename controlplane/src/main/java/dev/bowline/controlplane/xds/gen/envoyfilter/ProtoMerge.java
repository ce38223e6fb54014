package dev.bowline.controlplane.xds.gen.envoyfilter;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;

/**
 * istiod's EnvoyFilter MERGE: proto merge semantics (scalars replaced, messages merged, repeated
 * fields appended, maps merged by key), except that an {@code Any} holding the same type on both
 * sides is merged by its content instead of being replaced, and durations and timestamps are
 * replaced whole.
 */
final class ProtoMerge {
  private final JsonFormat.TypeRegistry types;

  ProtoMerge(JsonFormat.TypeRegistry types) {
    this.types = types;
  }

  @SuppressWarnings("unchecked")
  <T extends Message> T merge(T base, T overlay) {
    Message.Builder b = base.toBuilder();
    mergeInto(b, overlay);
    return (T) b.build();
  }

  private void mergeInto(Message.Builder b, Message overlay) {
    for (var e : overlay.getAllFields().entrySet()) {
      FieldDescriptor f = e.getKey();
      Object v = e.getValue();
      if (f.isRepeated()) {
        if (f.isMapField()) {
          // a map entry with the same key replaces the old one
          java.util.Map<Object, Message> byKey = new java.util.LinkedHashMap<>();
          for (Object o : (java.util.List<?>) b.getField(f)) {
            Message m = (Message) o;
            byKey.put(m.getField(m.getDescriptorForType().findFieldByName("key")), m);
          }
          for (Object o : (java.util.List<?>) v) {
            Message m = (Message) o;
            Object key = m.getField(m.getDescriptorForType().findFieldByName("key"));
            Message old = byKey.get(key);
            byKey.put(key, old == null ? m : merge(old, m));
          }
          b.clearField(f);
          for (Message m : byKey.values()) {
            b.addRepeatedField(f, m);
          }
        } else {
          for (Object o : (java.util.List<?>) v) {
            b.addRepeatedField(f, o);
          }
        }
      } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && b.hasField(f)) {
        Message current = (Message) b.getField(f);
        b.setField(f, mergeMessage(current, (Message) v));
      } else {
        b.setField(f, v);
      }
    }
  }

  private Message mergeMessage(Message current, Message overlay) {
    String type = current.getDescriptorForType().getFullName();
    if (type.equals("google.protobuf.Duration") || type.equals("google.protobuf.Timestamp")) {
      return overlay; // a duration is one value: 0.25s over 10s is 0.25s, not 10.25s
    }
    if (!current.getDescriptorForType().getFullName().equals(Any.getDescriptor().getFullName())) {
      return merge(current, overlay);
    }
    try {
      Any a = current instanceof Any x ? x : Any.parseFrom(current.toByteString());
      Any o = overlay instanceof Any x ? x : Any.parseFrom(overlay.toByteString());
      Any merged = mergeAny(a, o);
      return current instanceof Any
          ? merged
          : DynamicMessage.parseFrom(current.getDescriptorForType(), merged.toByteString());
    } catch (InvalidProtocolBufferException e) {
      return overlay;
    }
  }

  /** Same type: content merged; else the overlay replaces the base. */
  Any mergeAny(Any base, Any overlay) {
    if (!base.getTypeUrl().equals(overlay.getTypeUrl())) {
      return overlay;
    }
    Descriptor d = types.find(base.getTypeUrl().substring(base.getTypeUrl().lastIndexOf('/') + 1));
    if (d == null) {
      return overlay;
    }
    try {
      DynamicMessage a = DynamicMessage.parseFrom(d, base.getValue());
      DynamicMessage o = DynamicMessage.parseFrom(d, overlay.getValue());
      return Any.newBuilder()
          .setTypeUrl(base.getTypeUrl())
          .setValue(merge(a, o).toByteString())
          .build();
    } catch (InvalidProtocolBufferException e) {
      return overlay;
    }
  }
}
