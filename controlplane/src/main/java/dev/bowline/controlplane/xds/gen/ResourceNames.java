package dev.bowline.controlplane.xds.gen;

import java.util.Iterator;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a proxy asked for of one type: everything (wildcard) or a set of names. Immutable; a value
 * (equality by content). It is a generation cache key compared for every equivalent stream, so its
 * hash is computed once and equality walks both sorted sets in step.
 */
public final class ResourceNames {
  /** Everything of the type. */
  public static final ResourceNames ALL = new ResourceNames(true, Set.of());

  private final boolean wildcard;
  private final SortedSet<String> names;
  private final int hash;

  /**
   * @param wildcard every resource of the type
   * @param names explicitly requested names (with wildcard, names the proxy also asked for)
   */
  public ResourceNames(boolean wildcard, Set<String> names) {
    this.wildcard = wildcard;
    this.names = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(names));
    this.hash = 31 * Boolean.hashCode(wildcard) + this.names.hashCode();
  }

  /** Exactly {@code names}. */
  public static ResourceNames of(Set<String> names) {
    return new ResourceNames(false, names);
  }

  /** Every resource of the type. */
  public boolean wildcard() {
    return wildcard;
  }

  /** The explicitly requested names, sorted. */
  public Set<String> names() {
    return names;
  }

  /** Whether {@code name} is requested. */
  public boolean includes(String name) {
    return wildcard || names.contains(name);
  }

  /** The requested entries of {@code all} (all of them on a wildcard). */
  public <V> SortedMap<String, V> select(SortedMap<String, V> all) {
    if (wildcard) {
      return all;
    }
    SortedMap<String, V> out = new TreeMap<>();
    for (String n : names) {
      V v = all.get(n);
      if (v != null) {
        out.put(n, v);
      }
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof ResourceNames other)
        || other.hash != hash
        || other.wildcard != wildcard
        || other.names.size() != names.size()) {
      return false;
    }
    Iterator<String> a = names.iterator();
    Iterator<String> b = other.names.iterator();
    while (a.hasNext()) {
      if (!Objects.equals(a.next(), b.next())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "ResourceNames[wildcard=" + wildcard + ", names=" + names + "]";
  }
}
