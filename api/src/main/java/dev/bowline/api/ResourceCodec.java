package dev.bowline.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.model.Spec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Reads and writes Istio resources as YAML (several documents separated by {@code ---}) or JSON,
 * including {@code kubectl}-style {@code List}s. Reading is strict the way Istio is: an unknown
 * kind, version or field, or a value of the wrong type, rejects the document with the field's path;
 * the other documents are still read. Thread-safe; create one and share it.
 */
public final class ResourceCodec {
  private static final String UNKNOWN_FIELDS = "bowline.unknownFields";
  private static final List<String> TRACERS =
      List.of("zipkin", "lightstep", "datadog", "stackdriver", "openCensusAgent");
  private static final Set<String> TOP_LEVEL =
      Set.of("apiVersion", "kind", "metadata", "spec", "status");

  /** A Kubernetes Secret has its content at the top level, not under {@code spec}. */
  private static final Set<String> SECRET_TOP_LEVEL =
      Set.of("apiVersion", "kind", "metadata", "type", "data", "stringData", "immutable");

  private static final Set<String> METADATA =
      Set.of(
          "name",
          "namespace",
          "labels",
          "annotations",
          "resourceVersion",
          "generation",
          "uid",
          "creationTimestamp",
          "deletionTimestamp",
          "deletionGracePeriodSeconds",
          "generateName",
          "finalizers",
          "ownerReferences",
          "managedFields",
          "selfLink");
  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("^---(\\s.*)?$");
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  private final String defaultNamespace;
  private final ObjectMapper json;
  private final YAMLMapper yaml;

  /** A codec that puts resources without a namespace into {@code default}, as kubectl does. */
  public ResourceCodec() {
    this("default");
  }

  /** A codec that puts resources without a namespace into {@code defaultNamespace}. */
  public ResourceCodec(String defaultNamespace) {
    this.defaultNamespace = defaultNamespace;
    this.json = configure(JsonMapper.builder().build());
    this.yaml =
        YAMLMapper.builder(
                YAMLFactory.builder()
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                    .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
  }

  private static ObjectMapper configure(ObjectMapper m) {
    m.registerModule(GoDurations.module());
    m.addHandler(new UnknownFieldCollector());
    m.enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS);
    m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    m.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    m.setDefaultPropertyInclusion(
        JsonInclude.Value.construct(JsonInclude.Include.NON_EMPTY, JsonInclude.Include.NON_NULL));
    // Protobuf's JSON is strict about types: "80" is not a port, 80 is not a host name.
    m.coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Float)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    m.coercionConfigFor(LogicalType.Enum)
        .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    return m;
  }

  /**
   * Reads every document of {@code text}.
   *
   * @param source where the text came from (a file path, {@code -}); used in messages
   */
  public Decoded decode(String source, String text) {
    List<Resource<?>> resources = new ArrayList<>();
    List<Decoded.Rejected> rejected = new ArrayList<>();
    String trimmed = text.stripLeading();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      decodeText(json, source, 1, text, 1, resources, rejected);
    } else {
      int index = 1;
      for (Document doc : splitDocuments(text)) {
        decodeText(yaml, source, index++, doc.text(), doc.firstLine(), resources, rejected);
      }
    }
    return new Decoded(resources, rejected);
  }

  /** One YAML document of a text and the line of the text it starts on (from 1). */
  record Document(String text, int firstLine) {}

  /** YAML documents, split at {@code ---} lines; comment-only documents stay (and are skipped). */
  static List<Document> splitDocuments(String text) {
    List<Document> docs = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean sawSeparator = false;
    int lineNumber = 0;
    int firstLine = 1;
    for (String line : text.split("\\R", -1)) {
      lineNumber++;
      if (DOCUMENT_SEPARATOR.matcher(line).matches()) {
        if (sawSeparator || !current.toString().isBlank()) {
          docs.add(new Document(current.toString(), firstLine));
        }
        sawSeparator = true;
        current.setLength(0);
        firstLine = lineNumber + 1;
      } else {
        current.append(line).append('\n');
      }
    }
    docs.add(new Document(current.toString(), firstLine));
    return docs;
  }

  private void decodeText(
      ObjectMapper mapper,
      String source,
      int document,
      String text,
      int firstLine,
      List<Resource<?>> resources,
      List<Decoded.Rejected> rejected) {
    JsonNode node;
    try {
      node = mapper.readTree(text);
    } catch (JsonProcessingException e) {
      String where = source + " document " + document;
      String line =
          e.getLocation() == null
              ? ""
              : "line " + (e.getLocation().getLineNr() + firstLine - 1) + ": ";
      rejected.add(
          new Decoded.Rejected(
              source,
              document,
              null,
              List.of(
                  new Message(
                      where, "", line + "not valid YAML/JSON: " + e.getOriginalMessage()))));
      return;
    }
    if (node == null || node.isMissingNode() || node.isNull()) {
      return;
    }
    decodeDocument(source, document, "", node, resources, rejected);
  }

  private void decodeDocument(
      String source,
      int document,
      String prefix,
      JsonNode node,
      List<Resource<?>> resources,
      List<Decoded.Rejected> rejected) {
    String where = source + " document " + document + (prefix.isEmpty() ? "" : " " + prefix);
    if (!node.isObject()) {
      rejected.add(
          new Decoded.Rejected(
              source,
              document,
              null,
              List.of(
                  new Message(
                      where, "", "must be a mapping with apiVersion, kind, metadata and spec"))));
      return;
    }
    String kindName = node.path("kind").asText("");
    String apiVersion = node.path("apiVersion").asText("");
    if (kindName.endsWith("List") && node.has("items")) {
      JsonNode items = node.get("items");
      if (!items.isArray()) {
        rejected.add(
            new Decoded.Rejected(
                source,
                document,
                null,
                List.of(new Message(where, prefix + "items", "must be a list"))));
        return;
      }
      for (int i = 0; i < items.size(); i++) {
        decodeDocument(
            source, document, prefix + "items[" + i + "]", items.get(i), resources, rejected);
      }
      return;
    }
    JsonNode metadata = node.path("metadata");
    String name = metadata.path("name").asText("");
    String namespace = metadata.path("namespace").asText("");
    if (namespace.isEmpty()) {
      namespace = defaultNamespace;
    }
    Kind kind = Kind.byName(kindName).orElse(null);
    ResourceKey key =
        kind != null && !name.isEmpty() ? new ResourceKey(kind, namespace, name) : null;
    String resource =
        key != null
            ? key.toString()
            : !kindName.isEmpty() && !name.isEmpty()
                ? kindName + " " + namespace + "/" + name
                : where;
    List<Message> errors = new ArrayList<>();
    String at = prefix.isEmpty() ? "" : prefix + ".";

    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!(kind == Kind.SECRET ? SECRET_TOP_LEVEL : TOP_LEVEL).contains(field)) {
        errors.add(new Message(resource, at + field, "unknown field"));
      }
    }
    if (kindName.isEmpty()) {
      errors.add(new Message(resource, at + "kind", "is required"));
    } else if (kind == null) {
      errors.add(
          new Message(
              resource,
              at + "kind",
              (apiVersion.contains(".istio.io/")
                      ? "unknown kind \"" + kindName + "\""
                      : "\""
                          + kindName
                          + "\" ("
                          + (apiVersion.isEmpty() ? "no apiVersion" : apiVersion)
                          + ") is not an Istio kind")
                  + "; Bowline reads "
                  + Arrays.stream(Kind.values())
                      .map(Kind::kindName)
                      .collect(Collectors.joining(", "))));
    }
    if (apiVersion.isEmpty()) {
      errors.add(new Message(resource, at + "apiVersion", "is required"));
    } else if (kind != null && !kind.apiVersions().contains(apiVersion)) {
      errors.add(
          new Message(
              resource,
              at + "apiVersion",
              "unknown version \""
                  + apiVersion
                  + "\" of "
                  + kind
                  + "; served as "
                  + String.join(", ", kind.apiVersions())));
    }
    Map<String, String> labels = Map.of();
    Map<String, String> annotations = Map.of();
    String resourceVersion = "";
    if (!metadata.isObject()) {
      errors.add(
          new Message(
              resource,
              at + "metadata",
              metadata.isMissingNode() ? "is required" : "must be a mapping"));
    } else {
      for (Iterator<String> it = metadata.fieldNames(); it.hasNext(); ) {
        String field = it.next();
        if (!METADATA.contains(field)) {
          errors.add(new Message(resource, at + "metadata." + field, "unknown field"));
        }
      }
      if (name.isEmpty()) {
        errors.add(new Message(resource, at + "metadata.name", "is required"));
      } else if (name.length() > 253 || !DNS1123_SUBDOMAIN.matcher(name).matches()) {
        errors.add(
            new Message(
                resource,
                at + "metadata.name",
                "\"" + name + "\" is not a valid name (lower-case DNS-1123 subdomain)"));
      }
      if (namespace.length() > 63 || !DNS1123_LABEL.matcher(namespace).matches()) {
        errors.add(
            new Message(
                resource,
                at + "metadata.namespace",
                "\"" + namespace + "\" is not a valid namespace (lower-case DNS-1123 label)"));
      }
      labels = stringMap(metadata.path("labels"), resource, at + "metadata.labels", errors);
      annotations =
          stringMap(metadata.path("annotations"), resource, at + "metadata.annotations", errors);
      resourceVersion = metadata.path("resourceVersion").asText("");
    }
    Spec spec = null;
    if (kind != null) {
      JsonNode specNode = node.path("spec");
      String specPath = at + "spec";
      if (kind == Kind.SECRET) {
        ObjectNode content = json.createObjectNode();
        for (String f : List.of("type", "data", "stringData", "immutable")) {
          if (node.has(f)) {
            content.set(f, node.get(f));
          }
        }
        specNode = content;
        specPath = prefix;
      }
      if (specNode.isMissingNode() || specNode.isNull()) {
        specNode = json.createObjectNode();
      }
      spec = readSpec(kind, specNode, resource, specPath, errors);
    }
    if (!errors.isEmpty() || spec == null) {
      rejected.add(new Decoded.Rejected(source, document, key, errors));
      return;
    }
    resources.add(
        new Resource<>(
            kind, apiVersion, namespace, name, labels, annotations, resourceVersion, spec));
  }

  private Map<String, String> stringMap(
      JsonNode node, String resource, String path, List<Message> errors) {
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      errors.add(new Message(resource, path, "must be a mapping of strings"));
      return Map.of();
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (var it = node.properties().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().isTextual()) {
        errors.add(new Message(resource, path + "." + e.getKey(), "must be a string (quote it)"));
      } else {
        map.put(e.getKey(), e.getValue().asText());
      }
    }
    return map;
  }

  private @Nullable Spec readSpec(
      Kind kind, JsonNode specNode, String resource, String path, List<Message> errors) {
    List<String> unknown = new ArrayList<>();
    ObjectReader reader = json.readerFor(kind.specClass()).withAttribute(UNKNOWN_FIELDS, unknown);
    Spec spec = null;
    try (JsonParser p = json.treeAsTokens(specNode)) {
      spec = reader.readValue(p);
    } catch (JsonMappingException e) {
      errors.add(new Message(resource, path + pathOf(e.getPath()), describe(e)));
    } catch (InputCoercionException e) {
      String at = e.getProcessor() instanceof JsonParser p ? pathOf(p.getParsingContext()) : "";
      errors.add(new Message(resource, path + at, "number out of range"));
    } catch (IOException e) {
      errors.add(new Message(resource, path, "cannot be read: " + e.getMessage()));
    }
    for (String field : unknown) {
      errors.add(new Message(resource, path + field, "unknown field"));
    }
    return unknown.isEmpty() ? spec : null;
  }

  private static String pathOf(List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder();
    for (var ref : refs) {
      if (ref.getFieldName() != null) {
        sb.append('.').append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  /** The path of the value a parser context is at, e.g. {@code .http[0].route}. */
  static String pathOf(@Nullable JsonStreamContext context) {
    List<String> parts = new ArrayList<>();
    for (JsonStreamContext c = context; c != null && c.getParent() != null; c = c.getParent()) {
      if (c.getCurrentName() != null) {
        parts.add("." + c.getCurrentName());
      } else if (c.inArray()) {
        parts.add("[" + Math.max(0, c.getCurrentIndex()) + "]");
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int i = parts.size() - 1; i >= 0; i--) {
      sb.append(parts.get(i));
    }
    return sb.toString();
  }

  private static String describe(JsonMappingException e) {
    if (e instanceof ValueInstantiationException vie && vie.getCause() != null) {
      Throwable cause = vie.getCause();
      return cause instanceof NullPointerException
          ? "must not contain empty (null) items"
          : String.valueOf(cause.getMessage());
    }
    if (e instanceof InvalidFormatException ife) {
      Class<?> target = ife.getTargetType();
      Object value = ife.getValue();
      if (target != null && target.isEnum()) {
        return "unknown value \""
            + value
            + "\"; must be one of "
            + Arrays.stream(target.getEnumConstants())
                .map(String::valueOf)
                .collect(Collectors.joining(", "));
      }
      if (target == Duration.class) {
        return "invalid duration \""
            + value
            + "\"; write a number with a unit, e.g. 10s, 1.5s, 100ms";
      }
      return "\"" + value + "\" " + expected(target);
    }
    if (e instanceof MismatchedInputException mie) {
      Class<?> target = mie.getTargetType();
      if (target != null && target.isEnum()) {
        return "must be one of "
            + Arrays.stream(target.getEnumConstants())
                .map(String::valueOf)
                .collect(Collectors.joining(", "));
      }
      return expected(target);
    }
    return String.valueOf(e.getOriginalMessage());
  }

  private static String expected(@Nullable Class<?> target) {
    if (target == null) {
      return "has the wrong type";
    }
    if (target == Integer.class || target == int.class || target == Long.class) {
      return "must be a whole number";
    }
    if (target == Double.class || target == double.class) {
      return "must be a number";
    }
    if (target == Boolean.class || target == boolean.class) {
      return "must be true or false";
    }
    if (target == String.class) {
      return "must be a string";
    }
    if (target == Duration.class) {
      return "must be a duration such as \"10s\" or \"100ms\"";
    }
    if (Collection.class.isAssignableFrom(target)) {
      return "must be a list";
    }
    return "must be a mapping";
  }

  /**
   * Reads a {@code mesh.yaml} (a MeshConfig, no kind or metadata) and applies it on top of Istio's
   * defaults: mappings merge field by field, lists and scalars replace.
   */
  public DecodedMeshConfig decodeMeshConfig(String source, String text) {
    return decodeMeshConfig(source, text, MeshConfig.defaults());
  }

  /**
   * Reads a {@code mesh.yaml} and applies it on top of {@code base} as istiod's {@code
   * ApplyMeshConfig} applies one over its defaults: mappings merge field by field, lists and
   * scalars replace, except {@code extensionProviders} (merged by name) and {@code
   * trustDomainAliases} (a union). On errors the result's config is {@code base}.
   */
  public DecodedMeshConfig decodeMeshConfig(String source, String text, MeshConfig base) {
    String resource = "MeshConfig " + source;
    MeshConfig defaults = java.util.Objects.requireNonNull(base, "base");
    JsonNode user;
    try {
      user = yaml.readTree(text);
    } catch (JsonProcessingException e) {
      return new DecodedMeshConfig(
          defaults,
          List.of(new Message(resource, "", "not valid YAML: " + e.getOriginalMessage())));
    }
    if (user == null || user.isMissingNode() || user.isNull()) {
      return new DecodedMeshConfig(defaults, List.of());
    }
    if (!user.isObject()) {
      return new DecodedMeshConfig(
          defaults, List.of(new Message(resource, "", "must be a mapping")));
    }
    ObjectNode merged = json.valueToTree(defaults);
    if (user.at("/defaultConfig/tracing") instanceof ObjectNode tracing
        && TRACERS.stream().anyMatch(tracing::has)
        && merged.get("defaultConfig") instanceof ObjectNode proxy) {
      // Naming a tracer replaces the default one (zipkin): tracers are a oneof.
      proxy.remove("tracing");
    }
    List<Message> errors = new ArrayList<>();
    if (user.at("/defaultConfig") instanceof ObjectNode userProxy
        && merged.get("defaultConfig") instanceof ObjectNode proxy) {
      // serviceCluster and tracingServiceName are a oneof: naming one replaces the other.
      if (userProxy.has("serviceCluster") && userProxy.has("tracingServiceName")) {
        errors.add(
            new Message(
                resource,
                "defaultConfig.tracingServiceName",
                "only one of serviceCluster or tracingServiceName may be set"));
      } else if (userProxy.has("tracingServiceName")) {
        proxy.remove("serviceCluster");
      }
    }
    ObjectNode userFields = ((ObjectNode) user).deepCopy();
    // As istiod's ApplyMeshConfig, a user's extension provider replaces the default of the same
    // name and the other defaults stay. The user's come first so that their indexes (and error
    // paths) are those of the file; order carries no meaning (providers are found by name).
    if (userFields.get("extensionProviders") instanceof ArrayNode userProviders
        && merged.get("extensionProviders") instanceof ArrayNode defaultProviders) {
      ArrayNode providers = userProviders.deepCopy();
      var named = new java.util.HashSet<JsonNode>();
      userProviders.forEach(p -> named.add(p.get("name")));
      for (JsonNode d : defaultProviders) {
        if (!named.contains(d.get("name"))) {
          providers.add(d);
        }
      }
      userFields.set("extensionProviders", providers);
    }
    // Trust domain aliases are a sorted union with the previous ones (Istio's rule too).
    if (userFields.get("trustDomainAliases") instanceof ArrayNode aliases) {
      JsonNode previous =
          merged.get("trustDomainAliases") instanceof ArrayNode list
              ? list
              : json.createArrayNode();
      var union = new java.util.TreeSet<String>();
      boolean allText = true;
      for (JsonNode n : aliases) {
        allText &= n.isTextual();
        union.add(n.asText());
      }
      previous.forEach(n -> union.add(n.asText()));
      if (allText) {
        ArrayNode sorted = json.createArrayNode();
        union.forEach(sorted::add);
        userFields.set("trustDomainAliases", sorted);
      }
    }
    merge(merged, userFields);
    List<String> unknown = new ArrayList<>();
    MeshConfig config = null;
    try (JsonParser p = json.treeAsTokens(merged)) {
      config = json.readerFor(MeshConfig.class).withAttribute(UNKNOWN_FIELDS, unknown).readValue(p);
    } catch (JsonMappingException e) {
      errors.add(new Message(resource, pathOf(e.getPath()).replaceFirst("^\\.", ""), describe(e)));
    } catch (IOException e) {
      errors.add(new Message(resource, "", "cannot be read: " + e.getMessage()));
    }
    unknown.forEach(
        u -> errors.add(new Message(resource, u.replaceFirst("^\\.", ""), "unknown field")));
    return errors.isEmpty() && config != null
        ? new DecodedMeshConfig(config, List.of())
        : new DecodedMeshConfig(defaults, errors);
  }

  private static void merge(ObjectNode into, ObjectNode from) {
    for (var it = from.properties().iterator(); it.hasNext(); ) {
      var e = it.next();
      JsonNode existing = into.get(e.getKey());
      if (existing instanceof ObjectNode target && e.getValue() instanceof ObjectNode source) {
        merge(target, source);
      } else {
        into.set(e.getKey(), e.getValue());
      }
    }
  }

  /** One resource as a YAML document (without {@code ---}). */
  public String toYaml(Resource<?> resource) {
    try {
      return yaml.writeValueAsString(toTree(resource));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Resources as one YAML text, documents separated by {@code ---}. */
  public String toYaml(List<? extends Resource<?>> resources) {
    return resources.stream().map(this::toYaml).collect(Collectors.joining("---\n"));
  }

  /** One resource as pretty-printed JSON. */
  public String toJson(Resource<?> resource) {
    try {
      return json.writerWithDefaultPrettyPrinter().writeValueAsString(toTree(resource));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private ObjectNode toTree(Resource<?> r) {
    ObjectNode root = json.createObjectNode();
    root.put("apiVersion", r.apiVersion());
    root.put("kind", r.kind().kindName());
    ObjectNode meta = root.putObject("metadata");
    meta.put("name", r.name());
    meta.put("namespace", r.namespace());
    if (!r.labels().isEmpty()) {
      meta.set("labels", json.valueToTree(r.labels()));
    }
    if (!r.annotations().isEmpty()) {
      meta.set("annotations", json.valueToTree(r.annotations()));
    }
    if (!r.resourceVersion().isEmpty()) {
      meta.put("resourceVersion", r.resourceVersion());
    }
    if (r.spec() instanceof dev.bowline.api.model.KubernetesSecret secret) {
      // Kubernetes' shape; the values are private keys: written back only as they were given
      if (secret.type() != null) {
        root.put("type", secret.type());
      }
      root.set("data", json.valueToTree(secret.data()));
      if (!secret.stringData().isEmpty()) {
        root.set("stringData", json.valueToTree(secret.stringData()));
      }
      return root;
    }
    root.set("spec", json.valueToTree(r.spec()));
    return root;
  }

  /** Records every unknown field with its path instead of stopping at the first. */
  private static final class UnknownFieldCollector extends DeserializationProblemHandler {
    @Override
    public boolean handleUnknownProperty(
        DeserializationContext ctxt,
        JsonParser p,
        JsonDeserializer<?> deserializer,
        Object beanOrClass,
        String propertyName)
        throws IOException {
      @SuppressWarnings("unchecked")
      List<String> sink = (List<String>) ctxt.getAttribute(UNKNOWN_FIELDS);
      if (sink == null) {
        return false;
      }
      // The parser points at the property's value; find the object context that holds it.
      JsonStreamContext c = p.getParsingContext();
      // (A record's unknown properties are replayed from a token buffer, whose context for a list
      // value is an array context that carries the property's name: match the name alone.)
      while (c != null && !propertyName.equals(c.getCurrentName())) {
        c = c.getParent();
      }
      String path = c == null ? "." + propertyName : pathOf(c);
      sink.add(path);
      p.skipChildren();
      return true;
    }
  }
}
