package dev.bowline.proxy.bootstrap;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.Durations;
import java.text.ParseException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Merges a bootstrap's YAML node tree straight into a {@link DynamicMessage.Builder} by its
 * descriptors, with proto3's JSON mapping as protobuf's {@code JsonFormat} parser applies it, for
 * the shapes a bootstrap normally has: messages, repeated and string-keyed map fields, strings,
 * booleans, integers, floating point, enums, {@code Any} of a non-well-known type, {@code
 * Duration}, the wrappers, {@code Struct}/{@code Value}/{@code ListValue}.
 *
 * <p>Why: {@code JsonFormat}'s parser initialises {@code java.math.BigDecimal}, whose static
 * initialiser on JDK 25 computes 5^(2^16) in the interpreter (41-103 ms alone, ~10% of the
 * start-up's main thread, decision 0043), and needs the tree written out as JSON text and read
 * back. This merge never touches either.
 *
 * <p>It is only a fast path. Anything it does not take on exactly as {@code JsonFormat} would — an
 * input {@code JsonFormat} rejects (so its error message stays the one users see), a duplicate or
 * oneof clash, {@code bytes}, {@code Timestamp}, {@code FieldMask}, an {@code Any} of a well-known
 * type, a number it would read through {@code BigDecimal}, a non-string map key — makes {@link
 * #merge} return false, and {@link BootstrapLoader} parses the file with {@code JsonFormat} as
 * before. {@code YamlMergeTest} checks both paths give equal messages for every bootstrap in the
 * repository and for generated inputs.
 */
final class YamlMerge {
  /** Thrown to abandon the fast path; carries no stack. */
  private static final class Fallback extends RuntimeException {
    private static final Fallback INSTANCE = new Fallback();

    private Fallback() {
      super(null, null, false, false);
    }
  }

  /** A number both {@code Double.parseDouble} and {@code BigDecimal} read, and read alike. */
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?[0-9]+(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

  private static final Set<String> SPECIAL_JSON =
      Set.of(
          "google.protobuf.Any",
          "google.protobuf.Duration",
          "google.protobuf.Timestamp",
          "google.protobuf.FieldMask",
          "google.protobuf.Struct",
          "google.protobuf.Value",
          "google.protobuf.ListValue",
          "google.protobuf.DoubleValue",
          "google.protobuf.FloatValue",
          "google.protobuf.Int64Value",
          "google.protobuf.UInt64Value",
          "google.protobuf.Int32Value",
          "google.protobuf.UInt32Value",
          "google.protobuf.BoolValue",
          "google.protobuf.StringValue",
          "google.protobuf.BytesValue");

  private final TypeRegistry registry;
  private final Map<Descriptor, Map<String, FieldDescriptor>> fieldsByName =
      new IdentityHashMap<>();

  private YamlMerge(TypeRegistry registry) {
    this.registry = registry;
  }

  /**
   * Merges {@code tree} into {@code builder}; false if the fast path does not take this input on
   * (then {@code builder} is in an unspecified state and must be dropped).
   */
  static boolean merge(MappingNode tree, DynamicMessage.Builder builder, TypeRegistry registry) {
    try {
      new YamlMerge(registry).message(tree, builder);
      return true;
    } catch (Fallback e) {
      return false;
    } catch (RuntimeException e) {
      // not expected (BootstrapParseFuzzTest looks for it): JsonFormat's path decides
      return false;
    }
  }

  private static Fallback fallback() {
    return Fallback.INSTANCE;
  }

  /** The fields of {@code type} by proto name and by JSON name, as JsonFormat looks them up. */
  private Map<String, FieldDescriptor> fields(Descriptor type) {
    return fieldsByName.computeIfAbsent(
        type,
        t -> {
          Map<String, FieldDescriptor> m = new HashMap<>();
          for (FieldDescriptor f : t.getFields()) {
            m.put(f.getName(), f);
            m.put(f.getJsonName(), f);
          }
          return m;
        });
  }

  private void message(Node node, Message.Builder builder) {
    Descriptor type = builder.getDescriptorForType();
    String name = type.getFullName();
    if (name.startsWith("google.protobuf.") && SPECIAL_JSON.contains(name)) {
      special(name, node, builder);
      return;
    }
    if (!(node instanceof MappingNode m)) {
      throw fallback();
    }
    fields(m, builder, false);
  }

  /**
   * The entries of {@code m} as fields of {@code builder}'s message; {@code "@type"} skipped in an
   * Any.
   */
  private void fields(MappingNode m, Message.Builder builder, boolean inAny) {
    Map<String, FieldDescriptor> byName = fields(builder.getDescriptorForType());
    Set<FieldDescriptor> seen = new HashSet<>();
    Set<OneofDescriptor> oneofs = new HashSet<>();
    for (NodeTuple t : m.getValue()) {
      String key = key(t);
      if (inAny && key.equals("@type")) {
        continue;
      }
      FieldDescriptor f = byName.get(key);
      if (f == null || !seen.add(f)) {
        throw fallback(); // unknown field (JsonFormat's error), or set twice
      }
      OneofDescriptor oneof = f.getRealContainingOneof();
      if (oneof != null && !oneofs.add(oneof)) {
        throw fallback();
      }
      field(f, t.getValueNode(), builder);
    }
  }

  /** A mapping's key as the JSON written for JsonFormat names it: the scalar's text. */
  private static String key(NodeTuple t) {
    if (t.getKeyNode() instanceof ScalarNode k) {
      return k.getValue();
    }
    throw fallback();
  }

  private void field(FieldDescriptor f, Node value, Message.Builder builder) {
    if (Json.isNull(value)) {
      if (f.isRepeated()
          || (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
              && f.getMessageType().getFullName().equals("google.protobuf.Value"))
          || (f.getJavaType() == FieldDescriptor.JavaType.ENUM
              && f.getEnumType().getFullName().equals("google.protobuf.NullValue"))) {
        throw fallback();
      }
      return; // JsonFormat skips a null singular field
    }
    if (f.isMapField()) {
      if (!(value instanceof MappingNode m)) {
        throw fallback();
      }
      Descriptor entry = f.getMessageType();
      FieldDescriptor keyField = entry.findFieldByNumber(1);
      FieldDescriptor valueField = entry.findFieldByNumber(2);
      if (keyField.getType() != FieldDescriptor.Type.STRING) {
        throw fallback();
      }
      Set<String> keys = new HashSet<>();
      for (NodeTuple t : m.getValue()) {
        String k = key(t);
        if (Json.isNull(t.getValueNode()) || !keys.add(k)) {
          throw fallback();
        }
        Message.Builder e = builder.newBuilderForField(f);
        e.setField(keyField, k);
        e.setField(valueField, value(valueField, t.getValueNode(), e));
        builder.addRepeatedField(f, e.build());
      }
    } else if (f.isRepeated()) {
      if (!(value instanceof SequenceNode s)) {
        throw fallback();
      }
      for (Node item : s.getValue()) {
        if (Json.isNull(item)) {
          throw fallback();
        }
        builder.addRepeatedField(f, value(f, item, builder));
      }
    } else {
      builder.setField(f, value(f, value, builder));
    }
  }

  /** One value of field {@code f}, whose message is built by {@code parent}. */
  private Object value(FieldDescriptor f, Node node, Message.Builder parent) {
    return switch (f.getJavaType()) {
      case MESSAGE -> {
        Message.Builder sub = parent.newBuilderForField(f);
        message(node, sub);
        yield sub.build();
      }
      case ENUM -> enumValue(f, node);
      default -> scalar(f, node);
    };
  }

  private static EnumValueDescriptor enumValue(FieldDescriptor f, Node node) {
    Json j = Json.of(node);
    EnumValueDescriptor v = f.getEnumType().findValueByName(j.text());
    if (v == null) {
      v = f.getEnumType().findValueByNumber(int32(j.text()));
    }
    if (v == null) {
      throw fallback();
    }
    return v;
  }

  /** A scalar field's value from a YAML scalar, as JsonFormat reads its JSON form. */
  private static Object scalar(FieldDescriptor f, Node node) {
    Json j = Json.of(node);
    String text = j.text();
    return switch (f.getType()) {
      case STRING -> text;
      case BOOL ->
          switch (text) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw fallback();
          };
      case INT32, SINT32, SFIXED32 -> int32(text);
      case INT64, SINT64, SFIXED64 -> int64(text);
      case UINT32, FIXED32 -> {
        long v = int64(text);
        if (v < 0 || v > 0xFFFFFFFFL) {
          throw fallback();
        }
        yield (int) v;
      }
      case UINT64, FIXED64 -> {
        if (text.isEmpty() || text.charAt(0) == '-' || text.charAt(0) == '+') {
          throw fallback();
        }
        try {
          yield Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
          throw fallback();
        }
      }
      case DOUBLE -> float64(text);
      case FLOAT -> {
        double d = float64(text);
        if (!Double.isNaN(d)
            && !Double.isInfinite(d)
            && (d > Float.MAX_VALUE || d < -Float.MAX_VALUE)) {
          throw fallback();
        }
        yield (float) d;
      }
      default -> throw fallback(); // bytes, groups
    };
  }

  private static int int32(String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw fallback(); // JsonFormat then tries BigDecimal ("1e3", "5.0")
    }
  }

  private static long int64(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw fallback();
    }
  }

  private static double float64(String text) {
    switch (text) {
      case "NaN" -> {
        return Double.NaN;
      }
      case "Infinity" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-Infinity" -> {
        return Double.NEGATIVE_INFINITY;
      }
      default -> {
        if (!DECIMAL.matcher(text).matches()) {
          throw fallback();
        }
        double d = Double.parseDouble(text);
        if (Double.isInfinite(d)) {
          throw fallback(); // JsonFormat: out of range
        }
        return d;
      }
    }
  }

  /** The well-known types whose JSON form is not an object of their fields. */
  private void special(String name, Node node, Message.Builder builder) {
    Descriptor type = builder.getDescriptorForType();
    switch (name) {
      case "google.protobuf.Any" -> any(node, builder);
      case "google.protobuf.Duration" -> {
        if (!(node instanceof ScalarNode)) {
          throw fallback();
        }
        try {
          builder.mergeFrom(Durations.parse(Json.of(node).text()).toByteString());
        } catch (ParseException | InvalidProtocolBufferException e) {
          throw fallback();
        }
      }
      case "google.protobuf.Struct" -> {
        // fields: map<string, Value>, each value any JSON value, null included
        if (!(node instanceof MappingNode m)) {
          throw fallback();
        }
        FieldDescriptor fields = type.findFieldByNumber(1);
        Set<String> keys = new HashSet<>();
        for (NodeTuple t : m.getValue()) {
          String k = key(t);
          if (!keys.add(k)) {
            throw fallback();
          }
          Message.Builder e = builder.newBuilderForField(fields);
          e.setField(e.getDescriptorForType().findFieldByNumber(1), k);
          FieldDescriptor valueField = e.getDescriptorForType().findFieldByNumber(2);
          Message.Builder v = e.newBuilderForField(valueField);
          structValue(t.getValueNode(), v);
          e.setField(valueField, v.build());
          builder.addRepeatedField(fields, e.build());
        }
      }
      case "google.protobuf.ListValue" -> {
        if (!(node instanceof SequenceNode seq)) {
          throw fallback();
        }
        FieldDescriptor values = type.findFieldByNumber(1);
        for (Node item : seq.getValue()) {
          Message.Builder v = builder.newBuilderForField(values);
          structValue(item, v);
          builder.addRepeatedField(values, v.build());
        }
      }
      case "google.protobuf.Value" -> structValue(node, builder);
      case "google.protobuf.DoubleValue",
          "google.protobuf.FloatValue",
          "google.protobuf.Int64Value",
          "google.protobuf.UInt64Value",
          "google.protobuf.Int32Value",
          "google.protobuf.UInt32Value",
          "google.protobuf.BoolValue",
          "google.protobuf.StringValue" -> {
        if (!(node instanceof ScalarNode)) {
          throw fallback();
        }
        FieldDescriptor value = type.findFieldByNumber(1);
        builder.setField(value, scalar(value, node));
      }
      default -> throw fallback(); // Timestamp, FieldMask, BytesValue
    }
  }

  /** {@code google.protobuf.Value}: any JSON value. */
  private void structValue(Node node, Message.Builder builder) {
    Descriptor type = builder.getDescriptorForType();
    switch (node) {
      case MappingNode m -> {
        FieldDescriptor f = type.findFieldByName("struct_value");
        Message.Builder sub = builder.newBuilderForField(f);
        message(m, sub);
        builder.setField(f, sub.build());
      }
      case SequenceNode s -> {
        FieldDescriptor f = type.findFieldByName("list_value");
        Message.Builder sub = builder.newBuilderForField(f);
        message(s, sub);
        builder.setField(f, sub.build());
      }
      case ScalarNode s -> {
        Json j = Json.of(s);
        switch (j.kind()) {
          case NULL ->
              builder.setField(
                  type.findFieldByName("null_value"),
                  type.findFieldByName("null_value").getEnumType().findValueByNumber(0));
          case BOOL ->
              builder.setField(type.findFieldByName("bool_value"), j.text().equals("true"));
          case NUMBER -> {
            double d = Double.parseDouble(j.text()); // gson's getAsDouble
            builder.setField(type.findFieldByName("number_value"), d);
          }
          case STRING -> builder.setField(type.findFieldByName("string_value"), j.text());
        }
      }
      default -> throw fallback();
    }
  }

  /** {@code google.protobuf.Any}: {@code "@type"} and the fields of a registered type. */
  private void any(Node node, Message.Builder builder) {
    if (!(node instanceof MappingNode m) || m.getValue().isEmpty()) {
      throw fallback();
    }
    String typeUrl = null;
    for (NodeTuple t : m.getValue()) {
      if (key(t).equals("@type")) {
        if (typeUrl != null || !(t.getValueNode() instanceof ScalarNode u)) {
          throw fallback();
        }
        typeUrl = Json.of(u).text();
      }
    }
    if (typeUrl == null) {
      throw fallback();
    }
    Descriptor content;
    try {
      content = registry.getDescriptorForTypeUrl(typeUrl);
    } catch (InvalidProtocolBufferException e) {
      throw fallback();
    }
    if (content == null || SPECIAL_JSON.contains(content.getFullName())) {
      throw fallback();
    }
    Message.Builder c = DynamicMessage.newBuilder(content);
    fields(m, c, true);
    Descriptor any = builder.getDescriptorForType();
    builder.setField(any.findFieldByNumber(1), typeUrl);
    builder.setField(any.findFieldByNumber(2), c.build().toByteString());
  }

  /**
   * A YAML scalar as the JSON value {@link BootstrapLoader} writes for it: its kind and its JSON
   * text (a number's normalised digits, a string's characters, {@code true}/{@code false}).
   */
  record Json(Kind kind, String text) {
    enum Kind {
      NULL,
      BOOL,
      NUMBER,
      STRING
    }

    static boolean isNull(Node node) {
      return node instanceof ScalarNode s && of(s).kind == Kind.NULL;
    }

    static Json of(Node node) {
      if (!(node instanceof ScalarNode s)) {
        throw fallback();
      }
      return BootstrapLoader.json(s);
    }
  }
}
