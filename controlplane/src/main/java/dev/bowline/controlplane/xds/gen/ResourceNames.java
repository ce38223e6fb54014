package dev.bowline.controlplane.xds.gen;

import java.util.Set;
import java.util.TreeSet;

/**
 * What a proxy asked for of one type: everything (wildcard) or a set of names.
 *
 * @param wildcard every resource of the type
 * @param names explicitly requested names (with wildcard, names the proxy also asked for)
 */
public record ResourceNames(boolean wildcard, Set<String> names) {
  /** Everything of the type. */
  public static final ResourceNames ALL = new ResourceNames(true, Set.of());

  public ResourceNames {
    names = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(names));
  }

  /** Exactly {@code names}. */
  public static ResourceNames of(Set<String> names) {
    return new ResourceNames(false, names);
  }

  /** Whether {@code name} is requested. */
  public boolean includes(String name) {
    return wildcard || names.contains(name);
  }
}
