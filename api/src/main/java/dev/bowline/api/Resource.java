package dev.bowline.api;

import static java.util.Objects.requireNonNull;

import dev.bowline.api.model.Spec;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One Istio resource: its identity and metadata and its typed spec. Immutable.
 *
 * @param kind the kind; always matches {@code spec}
 * @param apiVersion as written, e.g. {@code networking.istio.io/v1beta1}
 * @param resourceVersion empty until a store assigns one
 */
public record Resource<S extends Spec>(
    Kind kind,
    String apiVersion,
    String namespace,
    String name,
    Map<String, String> labels,
    Map<String, String> annotations,
    String resourceVersion,
    S spec) {
  public Resource {
    requireNonNull(kind, "kind");
    requireNonNull(apiVersion, "apiVersion");
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
    requireNonNull(resourceVersion, "resourceVersion");
    requireNonNull(spec, "spec");
    if (!kind.specClass().isInstance(spec)) {
      throw new IllegalArgumentException(kind + " with a " + spec.getClass().getSimpleName());
    }
    labels = frozen(labels);
    annotations = frozen(annotations);
  }

  /** A resource of the spec's kind at its preferred API version, without labels or version. */
  public static <S extends Spec> Resource<S> of(String namespace, String name, S spec) {
    Kind kind = Kind.of(spec);
    return new Resource<>(
        kind, kind.preferredApiVersion(), namespace, name, Map.of(), Map.of(), "", spec);
  }

  /** Its key in a store. */
  public ResourceKey key() {
    return new ResourceKey(kind, namespace, name);
  }

  /** This resource with another resource version. */
  public Resource<S> withResourceVersion(String version) {
    return new Resource<>(kind, apiVersion, namespace, name, labels, annotations, version, spec);
  }

  /** This resource typed as {@code type}, if its spec is one. */
  public <T extends Spec> Optional<Resource<T>> as(Class<T> type) {
    if (!type.isInstance(spec)) {
      return Optional.empty();
    }
    @SuppressWarnings("unchecked")
    Resource<T> typed = (Resource<T>) this;
    return Optional.of(typed);
  }

  /** {@code VirtualService weather/forecast}. */
  @Override
  public String toString() {
    return key().toString();
  }

  private static Map<String, String> frozen(Map<String, String> map) {
    return map == null || map.isEmpty()
        ? Map.of()
        : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
