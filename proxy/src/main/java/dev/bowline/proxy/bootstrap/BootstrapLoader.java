package dev.bowline.proxy.bootstrap;

import com.google.gson.stream.JsonWriter;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads an Envoy v3 bootstrap in YAML or JSON into the {@link Bootstrap} proto.
 *
 * <p>The text is read into snakeyaml's node tree (YAML is a superset of JSON) and merged into the
 * message by its descriptors with proto3's JSON mapping ({@link YamlMerge}). Where that fast path
 * gives up (any input protobuf's {@link JsonFormat} would reject, and the few shapes it does not
 * read exactly as JsonFormat does), the tree is written out as JSON and parsed by JsonFormat with
 * the {@link SupportedTypes} registry, so an unknown field or an {@code Any} of a type the proxy
 * does not implement is a startup error naming the field or the type. Plain scalars are typed as
 * YAML 1.1 resolves them (snakeyaml's resolver, as Jackson's YAML parser did before: {@code
 * true}/{@code yes}/{@code on} are booleans, {@code ~}/{@code null} is null, integers and floats
 * are numbers); quoted scalars are strings. Jackson was not kept for this: its ~430 classes were a
 * third of the start-up's class loading outside the Envoy protos (decision 0036).
 */
public final class BootstrapLoader {
  /**
   * A loader that accepts the types of {@link SupportedTypes#registry()}; it builds the descriptors
   * of only the types a bootstrap names ({@link SupportedTypes#registryFor}).
   */
  public BootstrapLoader() {}

  /** Loads {@code file}; YAML or JSON. */
  public Bootstrap load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new BootstrapException(file + ": cannot read: " + e.getMessage(), e);
    }
    return parse(file.toString(), text);
  }

  /** Parses bootstrap {@code text}; {@code source} names it in errors. */
  public Bootstrap parse(String source, String text) {
    MappingNode tree = tree(source, text);
    TypeRegistry registry = registry(tree);
    Bootstrap fast = fastPath(source, tree, registry);
    return fast != null ? fast : viaJsonFormat(source, tree, registry);
  }

  /** The fast path alone: null where it gives up (for tests). */
  @org.jspecify.annotations.Nullable
  Bootstrap fastPath(String source, String text) {
    MappingNode tree = tree(source, text);
    return fastPath(source, tree, registry(tree));
  }

  /** The JsonFormat path alone (for tests). */
  Bootstrap parseWithJsonFormat(String source, String text) {
    MappingNode tree = tree(source, text);
    return viaJsonFormat(source, tree, registry(tree));
  }

  private static MappingNode tree(String source, String text) {
    Node tree;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setNestingDepthLimit(1000); // snakeyaml's default of 50 is near deep Envoy configs
      // the composer alone: Yaml's constructors and representers are ~70 classes more
      tree =
          new Composer(new ParserImpl(new StreamReader(text), options), new Resolver(), options)
              .getSingleNode();
    } catch (YAMLException e) {
      throw new BootstrapException(source + ": not valid YAML/JSON: " + e.getMessage(), e);
    }
    if (!(tree instanceof MappingNode m)) {
      throw new BootstrapException(source + ": the bootstrap must be a YAML or JSON object");
    }
    return m;
  }

  private static TypeRegistry registry(MappingNode tree) {
    Set<String> typeUrls = new LinkedHashSet<>();
    typeUrls(tree, typeUrls);
    return SupportedTypes.registryFor(typeUrls);
  }

  /**
   * The tree merged straight into the message by its descriptors: no JsonFormat parser, so no
   * {@code BigDecimal} initialisation (decision 0043). {@link YamlMerge} gives up on anything
   * JsonFormat would reject or that it does not read exactly as JsonFormat does; null then.
   */
  private static @org.jspecify.annotations.Nullable Bootstrap fastPath(
      String source, MappingNode tree, TypeRegistry registry) {
    DynamicMessage.Builder b = DynamicMessage.newBuilder(Bootstrap.getDescriptor());
    return YamlMerge.merge(tree, b, registry) ? toBootstrap(source, b) : null;
  }

  /** The tree written as JSON and parsed by JsonFormat, whose errors name the field. */
  private static Bootstrap viaJsonFormat(String source, MappingNode tree, TypeRegistry registry) {
    StringWriter json = new StringWriter();
    try (JsonWriter out = new JsonWriter(json)) {
      writeJson(tree, out);
    } catch (IllegalArgumentException e) {
      throw new BootstrapException(source + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalStateException("writing to a string", e);
    }
    DynamicMessage.Builder b = DynamicMessage.newBuilder(Bootstrap.getDescriptor());
    try {
      JsonFormat.parser().usingTypeRegistry(registry).merge(json.toString(), b);
    } catch (InvalidProtocolBufferException e) {
      throw new BootstrapException(source + ": " + explain(e.getMessage()), e);
    }
    return toBootstrap(source, b);
  }

  /**
   * Built as a DynamicMessage, then parsed into the generated class from its bytes: JsonFormat on a
   * generated builder resolves every field of every message type it meets by reflection, which
   * loads each type's builder and nested classes (~10 MB of metaspace for a bootstrap); the binary
   * parse runs generated code and loads only the types that are present (decision 0030).
   */
  private static Bootstrap toBootstrap(String source, DynamicMessage.Builder b) {
    try {
      return Bootstrap.parseFrom(b.build().toByteString());
    } catch (InvalidProtocolBufferException e) {
      throw new BootstrapException(source + ": " + explain(e.getMessage()), e);
    }
  }

  /** Collects the {@code "@type"} values of the mappings under {@code node}. */
  private static void typeUrls(Node node, Set<String> typeUrls) {
    switch (node) {
      case MappingNode m -> {
        for (NodeTuple t : m.getValue()) {
          if (t.getKeyNode() instanceof ScalarNode key
              && key.getValue().equals("@type")
              && t.getValueNode() instanceof ScalarNode type) {
            typeUrls.add(type.getValue());
          }
          typeUrls(t.getValueNode(), typeUrls);
        }
      }
      case SequenceNode s -> {
        for (Node item : s.getValue()) {
          typeUrls(item, typeUrls);
        }
      }
      default -> {}
    }
  }

  /**
   * Writes {@code node} as JSON to {@code out}. Aliases were resolved by the composer (an alias is
   * its anchor's node).
   */
  static void writeJson(Node node, JsonWriter out) throws IOException {
    switch (node) {
      case MappingNode m -> {
        out.beginObject();
        for (NodeTuple t : m.getValue()) {
          if (!(t.getKeyNode() instanceof ScalarNode key)) {
            throw new IllegalArgumentException(
                "line "
                    + (t.getKeyNode().getStartMark().getLine() + 1)
                    + ": a key must be a scalar");
          }
          out.name(key.getValue());
          writeJson(t.getValueNode(), out);
        }
        out.endObject();
      }
      case SequenceNode s -> {
        out.beginArray();
        for (Node item : s.getValue()) {
          writeJson(item, out);
        }
        out.endArray();
      }
      case ScalarNode s -> scalar(s, out);
      default ->
          throw new IllegalArgumentException(
              "line " + (node.getStartMark().getLine() + 1) + ": unexpected " + node.getNodeId());
    }
  }

  /**
   * A scalar as JSON: its value by its resolved tag (plain scalars may be numbers, booleans or
   * null).
   */
  private static void scalar(ScalarNode s, JsonWriter out) throws IOException {
    YamlMerge.Json j = json(s);
    switch (j.kind()) {
      case NULL -> out.nullValue();
      case BOOL -> out.value(j.text().equals("true"));
      case NUMBER -> out.jsonValue(j.text());
      case STRING -> out.value(j.text());
    }
  }

  /**
   * The JSON value of a scalar by its resolved tag: {@code true}/{@code yes}/{@code on} are true,
   * YAML 1.1 integers and floats are numbers in JSON's notation, {@code .inf}/{@code .nan} are
   * JsonFormat's strings, quoted scalars and anything else are strings.
   */
  static YamlMerge.Json json(ScalarNode s) {
    String v = s.getValue();
    Tag tag = s.getTag();
    if (tag.equals(Tag.NULL)) {
      return new YamlMerge.Json(YamlMerge.Json.Kind.NULL, "null");
    } else if (tag.equals(Tag.BOOL)) {
      boolean b =
          switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            default -> false;
          };
      return new YamlMerge.Json(YamlMerge.Json.Kind.BOOL, b ? "true" : "false");
    } else if (tag.equals(Tag.INT)) {
      String n = integer(v);
      return n == null
          ? new YamlMerge.Json(YamlMerge.Json.Kind.STRING, v)
          : new YamlMerge.Json(YamlMerge.Json.Kind.NUMBER, n);
    } else if (tag.equals(Tag.FLOAT)) {
      return float64(v);
    }
    return new YamlMerge.Json(YamlMerge.Json.Kind.STRING, v);
  }

  /**
   * A YAML 1.1 integer in decimal ({@code 0x}, {@code 0b}, leading-zero octal, {@code _}
   * separators); null for the sexagesimal form, which is kept as text.
   */
  private static @org.jspecify.annotations.Nullable String integer(String v) {
    String t = v.replace("_", "");
    boolean negative = t.startsWith("-");
    if (negative || t.startsWith("+")) {
      t = t.substring(1);
    }
    if (t.indexOf(':') >= 0 || t.isEmpty()) {
      return null;
    }
    int radix = 10;
    if (t.startsWith("0x")) {
      radix = 16;
      t = t.substring(2);
    } else if (t.startsWith("0b")) {
      radix = 2;
      t = t.substring(2);
    } else if (t.length() > 1 && t.startsWith("0")) {
      radix = 8;
      t = t.substring(1);
    }
    try {
      BigInteger n = new BigInteger(t, radix);
      return (negative ? n.negate() : n).toString();
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** A YAML 1.1 float: {@code .inf}/{@code .nan} as JsonFormat's strings, numbers as numbers. */
  private static YamlMerge.Json float64(String v) {
    String t = v.replace("_", "");
    switch (t.toLowerCase(java.util.Locale.ROOT)) {
      case ".inf", "+.inf" -> {
        return new YamlMerge.Json(YamlMerge.Json.Kind.STRING, "Infinity");
      }
      case "-.inf" -> {
        return new YamlMerge.Json(YamlMerge.Json.Kind.STRING, "-Infinity");
      }
      case ".nan" -> {
        return new YamlMerge.Json(YamlMerge.Json.Kind.STRING, "NaN");
      }
      default -> {
        if (t.startsWith("+")) {
          t = t.substring(1);
        }
        try {
          Double.parseDouble(t);
        } catch (NumberFormatException e) {
          return new YamlMerge.Json(YamlMerge.Json.Kind.STRING, v); // e.g. sexagesimal
        }
        // JSON wants a digit on both sides of the point
        if (t.startsWith(".") || t.startsWith("-.")) {
          t = t.replaceFirst("\\.", "0.");
        }
        if (t.endsWith(".")) {
          t = t + "0";
        }
        return new YamlMerge.Json(YamlMerge.Json.Kind.NUMBER, t);
      }
    }
  }

  private static String explain(String message) {
    if (message == null) {
      return "invalid bootstrap";
    }
    if (message.startsWith("Cannot find type for url") || message.contains("Cannot resolve type")) {
      return message + " (this proxy does not implement that extension)";
    }
    return message;
  }
}
