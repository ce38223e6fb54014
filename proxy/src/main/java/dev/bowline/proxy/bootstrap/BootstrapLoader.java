package dev.bowline.proxy.bootstrap;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads an Envoy v3 bootstrap in YAML or JSON into the {@link Bootstrap} proto.
 *
 * <p>YAML is turned into JSON with Jackson, then parsed by protobuf's {@link JsonFormat} with the
 * {@link SupportedTypes} registry, so an unknown field or an {@code Any} of a type the proxy does
 * not implement is a startup error naming the field or the type.
 */
public final class BootstrapLoader {
  private final ObjectMapper yaml = new YAMLMapper();
  private final ObjectMapper json = new ObjectMapper();

  /**
   * A loader that accepts the types of {@link SupportedTypes#registry()}; it builds the descriptors
   * of only the types a bootstrap names ({@link SupportedTypes#registryFor}).
   */
  public BootstrapLoader() {}

  /** Loads {@code file}; YAML unless its name ends in {@code .json}. */
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
    String asJson;
    java.util.Set<String> typeUrls = new java.util.LinkedHashSet<>();
    try {
      JsonNode tree = yaml.readTree(text); // YAML is a superset of JSON
      if (tree == null || !tree.isObject()) {
        throw new BootstrapException(source + ": the bootstrap must be a YAML or JSON object");
      }
      typeUrls(tree, typeUrls);
      asJson = json.writeValueAsString(tree);
    } catch (JacksonException e) {
      throw new BootstrapException(source + ": not valid YAML/JSON: " + e.getOriginalMessage(), e);
    }
    // Parsed into a DynamicMessage, then into the generated class from its bytes: JsonFormat on a
    // generated builder resolves every field of every message type it meets by reflection, which
    // loads each type's builder and nested classes (~10 MB of metaspace for a bootstrap); the
    // binary
    // parse runs generated code and loads only the types that are present (decision 0030).
    DynamicMessage.Builder b = DynamicMessage.newBuilder(Bootstrap.getDescriptor());
    try {
      JsonFormat.parser().usingTypeRegistry(SupportedTypes.registryFor(typeUrls)).merge(asJson, b);
      return Bootstrap.parseFrom(b.build().toByteString());
    } catch (InvalidProtocolBufferException e) {
      throw new BootstrapException(source + ": " + explain(e.getMessage()), e);
    }
  }

  /** Collects the {@code "@type"} values anywhere in {@code node}. */
  private static void typeUrls(JsonNode node, java.util.Set<String> into) {
    if (node.isObject()) {
      JsonNode type = node.get("@type");
      if (type != null && type.isTextual()) {
        into.add(type.asText());
      }
    }
    if (node.isContainerNode()) {
      for (JsonNode child : node) {
        typeUrls(child, into);
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
