package dev.bowline.config;

import static java.util.Objects.requireNonNull;

import dev.bowline.api.DecodedMeshConfig;
import dev.bowline.api.Message;
import dev.bowline.api.ResourceCodec;
import dev.bowline.api.Validation;
import dev.bowline.api.mesh.MeshConfig;
import dev.bowline.api.validation.Validator;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The mesh's MeshConfig with last-known-good: starts at Istio's defaults; a new {@code mesh.yaml}
 * replaces it only when it reads and validates cleanly, otherwise the current one stays and the
 * rejection is kept for the status. Subscribers get each new MeshConfig. Thread-safe.
 *
 * <p>Several sources (one {@code mesh.yaml} per config directory) are layers, applied in the order
 * they first appeared, each over the one before as istiod's {@code ApplyMeshConfig} applies a file
 * over its defaults (decision 0033): a later file's fields override field by field, extension
 * providers merge by name, and what it does not set (say {@code defaultProviders}) stays. A deleted
 * file takes its layer away.
 */
public final class MeshConfigStore {
  private static final System.Logger LOG = System.getLogger(MeshConfigStore.class.getName());

  private static final com.fasterxml.jackson.databind.ObjectMapper YAML =
      new com.fasterxml.jackson.databind.ObjectMapper(
          new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());

  private final ResourceCodec codec;
  private final Validator validator;
  private final Clock clock;
  private final List<Consumer<MeshConfig>> subscribers = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  private MeshConfig current = MeshConfig.defaults();
  private @Nullable Rejection rejection;

  /** One source's last good MeshConfig text, named for messages. */
  private record Layer(String from, String text) {}

  /** The sources' last good texts, in the order they first appeared; guarded by {@code lock}. */
  private final java.util.LinkedHashMap<String, Layer> layers = new java.util.LinkedHashMap<>();

  /** The result of applying every layer over Istio's defaults. */
  private record Folded(MeshConfig config, List<Message> errors) {}

  private Folded fold(java.util.Map<String, Layer> all) {
    MeshConfig acc = MeshConfig.defaults();
    List<Message> errors = new ArrayList<>();
    for (Layer l : all.values()) {
      DecodedMeshConfig d = codec.decodeMeshConfig(l.from(), l.text(), acc);
      errors.addAll(d.errors());
      acc = d.config();
    }
    return new Folded(acc, errors);
  }

  /** A store holding Istio's defaults. */
  public MeshConfigStore(ResourceCodec codec, Validator validator, Clock clock) {
    this.codec = requireNonNull(codec, "codec");
    this.validator = requireNonNull(validator, "validator");
    this.clock = requireNonNull(clock, "clock");
  }

  /** The MeshConfig in force. */
  public MeshConfig current() {
    synchronized (lock) {
      return current;
    }
  }

  /** Why the last change was refused, while it is the latest word of its source. */
  public Optional<Rejection> rejection() {
    synchronized (lock) {
      return Optional.ofNullable(rejection);
    }
  }

  /**
   * Applies {@code text} on top of Istio's defaults: a MeshConfig ({@code mesh.yaml}, istiod's
   * {@code --meshConfig} file) or the {@code istio} ConfigMap holding one under {@code data.mesh}
   * (what {@code kubectl get configmap istio -n istio-system -o yaml} prints). Returns the errors;
   * when there are any, the MeshConfig in force does not change.
   */
  public List<Message> update(String source, String text) {
    List<Message> errors = new ArrayList<>();
    String mesh = text;
    String from = source;
    if (isConfigMap(text)) {
      try {
        var node = YAML.readTree(text);
        var data = node.path("data").path("mesh");
        String name =
            node.path("metadata").path("namespace").asText("")
                + "/"
                + node.path("metadata").path("name").asText("");
        if (!data.isTextual()) {
          errors.add(
              new Message(
                  "ConfigMap " + name + " (" + source + ")",
                  "data.mesh",
                  "missing: the ConfigMap must hold the MeshConfig as text under data.mesh"));
        } else {
          mesh = data.asText();
          from = source + " (ConfigMap " + name + " data.mesh)";
        }
      } catch (java.io.IOException e) {
        errors.add(new Message("ConfigMap " + source, "", "not YAML: " + e.getMessage()));
      }
    }
    synchronized (lock) {
      MeshConfig next = current;
      if (errors.isEmpty()) {
        java.util.LinkedHashMap<String, Layer> candidate = new java.util.LinkedHashMap<>(layers);
        candidate.put(source, new Layer(from, mesh));
        Folded folded = fold(candidate);
        errors.addAll(folded.errors());
        if (errors.isEmpty()) {
          Validation v = validator.validate(folded.config(), from);
          errors.addAll(v.errors());
        }
        if (errors.isEmpty()) {
          layers.put(source, new Layer(from, mesh));
          next = folded.config();
        }
      }
      if (!errors.isEmpty()) {
        rejection = new Rejection(source, null, errors, true, clock.instant());
        LOG.log(
            Level.WARNING,
            "meshconfig rejected source="
                + source
                + " errors="
                + errors.size()
                + " kept=previous first=\""
                + errors.getFirst()
                + "\"");
        return List.copyOf(errors);
      }
      rejection = null;
      set(next, source);
      return List.of();
    }
  }

  /**
   * Whether {@code text} is a Kubernetes ConfigMap (the {@code istio} one) rather than a
   * MeshConfig.
   */
  static boolean isConfigMap(String text) {
    for (String line : text.lines().toList()) {
      if (line.strip().equals("kind: ConfigMap")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Takes {@code source}'s layer away (e.g. its mesh.yaml was deleted): the other layers over
   * Istio's defaults, or the defaults alone when it was the only one.
   */
  public void reset(String source) {
    synchronized (lock) {
      rejection = null;
      layers.remove(source);
      Folded folded = fold(layers);
      set(folded.errors().isEmpty() ? folded.config() : MeshConfig.defaults(), source);
    }
  }

  /** Delivers every later MeshConfig to {@code subscriber}; close the result to stop. */
  public AutoCloseable subscribe(Consumer<MeshConfig> subscriber) {
    subscribers.add(requireNonNull(subscriber, "subscriber"));
    return () -> subscribers.remove(subscriber);
  }

  private void set(MeshConfig next, String source) {
    if (next.equals(current)) {
      return;
    }
    current = next;
    LOG.log(Level.INFO, () -> "meshconfig applied source=" + source);
    for (Consumer<MeshConfig> s : subscribers) {
      try {
        s.accept(next);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "meshconfig subscriber failed error=" + e);
      }
    }
  }
}
