package dev.bowline.api;

import static java.util.Objects.requireNonNull;

/** What identifies a resource: kind, namespace and name. */
public record ResourceKey(Kind kind, String namespace, String name)
    implements Comparable<ResourceKey> {
  public ResourceKey {
    requireNonNull(kind, "kind");
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
  }

  @Override
  public int compareTo(ResourceKey o) {
    int c = kind.compareTo(o.kind);
    if (c == 0) {
      c = namespace.compareTo(o.namespace);
    }
    return c == 0 ? name.compareTo(o.name) : c;
  }

  /** {@code VirtualService weather/forecast}: how messages name a resource. */
  @Override
  public String toString() {
    return kind.kindName() + " " + namespace + "/" + name;
  }
}
