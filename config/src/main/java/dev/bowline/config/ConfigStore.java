package dev.bowline.config;

import static java.util.Objects.requireNonNull;

import dev.bowline.api.Decoded;
import dev.bowline.api.Kind;
import dev.bowline.api.Message;
import dev.bowline.api.Resource;
import dev.bowline.api.ResourceKey;
import dev.bowline.api.Validation;
import dev.bowline.api.model.Spec;
import dev.bowline.api.validation.Validator;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Istio resources keyed by (kind, namespace, name), each with a resource version the store assigns.
 * Every change is validated first; an invalid change is refused with its errors, recorded in {@link
 * #status()} and logged, and the last valid version stays in force. One bad resource never keeps
 * the others of the same batch out.
 *
 * <p>Sources: the in-memory API ({@link #apply}, {@link #delete}) and sources that own a set of
 * resources, such as a file ({@link #replaceSource}, {@link #removeSource}). When several sources
 * declare one resource (a copied file), the last writer's version is in force, the status warns,
 * and when that source lets go another's version takes over. Subscribers get typed {@link
 * ConfigEvent}s in order, on the thread that made the change, after the change is visible; they
 * should return quickly. Thread-safe.
 */
public final class ConfigStore {
  private static final System.Logger LOG = System.getLogger(ConfigStore.class.getName());

  /** The source name of resources applied through the in-memory API. */
  public static final String API_SOURCE = "api";

  private final Validator validator;
  private final Clock clock;
  private final Object lock = new Object();
  private final List<Consumer<ConfigEvent>> subscribers = new CopyOnWriteArrayList<>();

  // Guarded by lock.
  private final Map<ResourceKey, Entry> entries = new HashMap<>();
  // What each source declares (its last valid version of each resource); several sources may
  // declare one key: the last writer's version is in force, the others stand in when it goes.
  private final Map<String, Map<ResourceKey, Resource<?>>> declared = new HashMap<>();
  private final Map<String, List<Rejection>> rejections = new TreeMap<>();
  private long version;

  private record Entry(Resource<?> resource, String source, List<Message> warnings) {}

  /** A store that validates with {@code validator} and stamps rejections with {@code clock}. */
  public ConfigStore(Validator validator, Clock clock) {
    this.validator = requireNonNull(validator, "validator");
    this.clock = requireNonNull(clock, "clock");
  }

  /** Adds or replaces resources through the in-memory API. */
  public ApplyResult apply(List<? extends Resource<?>> resources) {
    synchronized (lock) {
      List<ConfigEvent> events = new ArrayList<>();
      Batch batch = new Batch();
      for (Resource<?> r : resources) {
        upsert(API_SOURCE, r, batch, events);
      }
      rejections.remove(API_SOURCE);
      if (!batch.rejected.isEmpty()) {
        rejections.put(API_SOURCE, List.copyOf(batch.rejected));
      }
      publish(events);
      return batch.result();
    }
  }

  /** Adds or replaces one resource through the in-memory API. */
  public ApplyResult apply(Resource<?> resource) {
    return apply(List.of(resource));
  }

  /** Deletes a resource; false when it was not there. */
  public boolean delete(ResourceKey key) {
    synchronized (lock) {
      List<ConfigEvent> events = new ArrayList<>();
      boolean removed = remove(key, events);
      declared.values().forEach(m -> m.remove(key));
      declared.values().removeIf(Map::isEmpty);
      publish(events);
      return removed;
    }
  }

  /**
   * Makes the store hold exactly what {@code source} (e.g. a file) now contains: valid resources
   * are added or updated, refused ones keep their previous version, and resources the source held
   * before but no longer names are deleted. When a document could not even be identified (bad
   * YAML), nothing of the source is deleted: it may have been the one that vanished.
   */
  public ApplyResult replaceSource(String source, Decoded decoded) {
    synchronized (lock) {
      List<ConfigEvent> events = new ArrayList<>();
      Batch batch = new Batch();
      Set<ResourceKey> named = new HashSet<>();
      for (Resource<?> r : decoded.resources()) {
        named.add(r.key());
        upsert(source, r, batch, events);
      }
      boolean unidentified = false;
      for (Decoded.Rejected d : decoded.rejected()) {
        if (d.key() != null) {
          named.add(d.key());
        } else {
          unidentified = true;
        }
        boolean kept = d.key() != null && entries.containsKey(d.key());
        batch.rejected.add(new Rejection(source, d.key(), d.errors(), kept, clock.instant()));
        log(source, d.key(), d.errors(), kept);
      }
      if (!unidentified) {
        for (ResourceKey key : List.copyOf(declared.getOrDefault(source, Map.of()).keySet())) {
          if (!named.contains(key) && withdraw(source, key, events)) {
            batch.deleted.add(key);
          }
        }
      }
      rejections.remove(source);
      if (!batch.rejected.isEmpty()) {
        rejections.put(source, List.copyOf(batch.rejected));
      }
      publish(events);
      return batch.result();
    }
  }

  /** Deletes every resource {@code source} holds (e.g. its file was deleted). */
  public List<ResourceKey> removeSource(String source) {
    synchronized (lock) {
      List<ConfigEvent> events = new ArrayList<>();
      List<ResourceKey> deleted = new ArrayList<>();
      for (ResourceKey key : List.copyOf(declared.getOrDefault(source, Map.of()).keySet())) {
        if (withdraw(source, key, events)) {
          deleted.add(key);
        }
      }
      declared.remove(source);
      rejections.remove(source);
      publish(events);
      return deleted;
    }
  }

  /** The sources that hold resources or have refused changes. */
  public Set<String> sources() {
    synchronized (lock) {
      Set<String> all = new HashSet<>(declared.keySet());
      all.addAll(rejections.keySet());
      return Set.copyOf(all);
    }
  }

  /** The resource in force for {@code key}. */
  public Optional<Resource<?>> get(ResourceKey key) {
    synchronized (lock) {
      Entry e = entries.get(key);
      return e == null ? Optional.empty() : Optional.of(e.resource());
    }
  }

  /** Every resource in force whose spec is a {@code type}, ordered by key. */
  public <S extends Spec> List<Resource<S>> list(Class<S> type) {
    synchronized (lock) {
      return entries.values().stream()
          .map(Entry::resource)
          .flatMap(r -> r.as(type).stream())
          .sorted((a, b) -> a.key().compareTo(b.key()))
          .toList();
    }
  }

  /** An immutable, consistent copy of everything in force, with the store's version. */
  public ConfigSnapshot snapshot() {
    synchronized (lock) {
      Map<ResourceKey, Resource<?>> copy = new HashMap<>();
      entries.forEach((k, e) -> copy.put(k, e.resource()));
      return new ConfigSnapshot(version, copy);
    }
  }

  /** Counts, refused changes and warnings. */
  public StoreStatus status() {
    synchronized (lock) {
      Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
      List<Message> warnings = new ArrayList<>();
      for (Entry e : entries.values()) {
        counts.merge(e.resource().kind(), 1, Integer::sum);
        warnings.addAll(e.warnings());
      }
      Map<ResourceKey, List<String>> sourcesOf = new java.util.TreeMap<>();
      declared.forEach(
          (src, keys) ->
              keys.keySet()
                  .forEach(k -> sourcesOf.computeIfAbsent(k, x -> new ArrayList<>()).add(src)));
      sourcesOf.forEach(
          (k, srcs) -> {
            Entry e = entries.get(k);
            if (srcs.size() > 1 && e != null) {
              java.util.Collections.sort(srcs);
              warnings.add(
                  new Message(
                      k.toString(),
                      "",
                      "defined in "
                          + srcs.size()
                          + " sources ("
                          + String.join(", ", srcs)
                          + "); the version from "
                          + e.source()
                          + " is in force"));
            }
          });
      List<Rejection> all = rejections.values().stream().flatMap(List::stream).toList();
      return new StoreStatus(counts, all, warnings, version);
    }
  }

  /** Delivers every later change to {@code subscriber}; close the result to stop. */
  public AutoCloseable subscribe(Consumer<ConfigEvent> subscriber) {
    subscribers.add(requireNonNull(subscriber, "subscriber"));
    return () -> subscribers.remove(subscriber);
  }

  private final class Batch {
    final List<Resource<?>> applied = new ArrayList<>();
    final List<ResourceKey> unchanged = new ArrayList<>();
    final List<ResourceKey> deleted = new ArrayList<>();
    final List<Rejection> rejected = new ArrayList<>();

    ApplyResult result() {
      return new ApplyResult(applied, unchanged, deleted, rejected);
    }
  }

  private void upsert(String source, Resource<?> r, Batch batch, List<ConfigEvent> events) {
    Validation v = validator.validate(r);
    Entry old = entries.get(r.key());
    if (!v.isValid()) {
      boolean kept = old != null;
      batch.rejected.add(new Rejection(source, r.key(), v.errors(), kept, clock.instant()));
      log(source, r.key(), v.errors(), kept);
      return;
    }
    declared.computeIfAbsent(source, s -> new LinkedHashMap<>()).put(r.key(), r);
    if (old != null && sameContent(old.resource(), r)) {
      batch.unchanged.add(r.key());
      if (!old.source().equals(source)) {
        entries.put(r.key(), new Entry(old.resource(), source, v.warnings()));
      }
      return;
    }
    Resource<?> stored = r.withResourceVersion(Long.toString(++version));
    entries.put(r.key(), new Entry(stored, source, v.warnings()));
    batch.applied.add(stored);
    events.add(
        old == null
            ? new ConfigEvent.Added(stored)
            : new ConfigEvent.Updated(old.resource(), stored));
    LOG.log(
        Level.DEBUG,
        () ->
            "config "
                + (old == null ? "added" : "updated")
                + " "
                + fields(r.key())
                + " version="
                + stored.resourceVersion()
                + " source="
                + source);
  }

  private boolean remove(ResourceKey key, List<ConfigEvent> events) {
    Entry old = entries.remove(key);
    if (old == null) {
      return false;
    }
    version++;
    events.add(new ConfigEvent.Deleted(old.resource()));
    LOG.log(Level.DEBUG, () -> "config deleted " + fields(key) + " source=" + old.source());
    return true;
  }

  /**
   * {@code source} no longer declares {@code key}. If its version was in force, another source's
   * declaration takes over, or the resource is deleted. True when it was deleted.
   */
  private boolean withdraw(String source, ResourceKey key, List<ConfigEvent> events) {
    Map<ResourceKey, Resource<?>> mine = declared.get(source);
    if (mine != null) {
      mine.remove(key);
      if (mine.isEmpty()) {
        declared.remove(source);
      }
    }
    Entry current = entries.get(key);
    if (current == null || !current.source().equals(source)) {
      return false;
    }
    for (var other : declared.entrySet()) {
      Resource<?> alt = other.getValue().get(key);
      if (alt == null) {
        continue;
      }
      List<Message> warnings = validator.validate(alt).warnings();
      if (sameContent(current.resource(), alt)) {
        entries.put(key, new Entry(current.resource(), other.getKey(), warnings));
      } else {
        Resource<?> stored = alt.withResourceVersion(Long.toString(++version));
        entries.put(key, new Entry(stored, other.getKey(), warnings));
        events.add(new ConfigEvent.Updated(current.resource(), stored));
      }
      LOG.log(
          Level.INFO,
          () ->
              "config source took over "
                  + fields(key)
                  + " source="
                  + other.getKey()
                  + " previous="
                  + source);
      return false;
    }
    return remove(key, events);
  }

  private static boolean sameContent(Resource<?> a, Resource<?> b) {
    return a.spec().equals(b.spec())
        && a.labels().equals(b.labels())
        && a.annotations().equals(b.annotations())
        && a.apiVersion().equals(b.apiVersion());
  }

  private void publish(List<ConfigEvent> events) {
    for (ConfigEvent e : events) {
      for (Consumer<ConfigEvent> s : subscribers) {
        try {
          s.accept(e);
        } catch (RuntimeException ex) {
          LOG.log(
              Level.WARNING,
              "config subscriber failed event="
                  + e.getClass().getSimpleName()
                  + " "
                  + fields(e.key())
                  + " error="
                  + ex);
        }
      }
    }
  }

  private static void log(
      String source, @Nullable ResourceKey key, List<Message> errors, boolean kept) {
    if (LOG.isLoggable(Level.WARNING)) {
      Map<String, String> f = new LinkedHashMap<>();
      f.put("source", source);
      f.put("errors", Integer.toString(errors.size()));
      f.put("kept", kept ? "previous" : "none");
      LOG.log(
          Level.WARNING,
          "config rejected "
              + (key == null ? "resource=unknown" : fields(key))
              + " "
              + joined(f)
              + " first=\""
              + (errors.isEmpty() ? "" : errors.getFirst())
              + "\"");
    }
  }

  private static String fields(ResourceKey key) {
    return "kind="
        + key.kind().kindName()
        + " namespace="
        + key.namespace()
        + " name="
        + key.name();
  }

  private static String joined(Map<String, String> f) {
    StringBuilder sb = new StringBuilder();
    f.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : " ").append(k).append('=').append(v));
    return sb.toString();
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return "ConfigStore{resources="
          + entries.size()
          + ", version="
          + version
          + ", sources="
          + Objects.toString(declared.keySet())
          + "}";
    }
  }
}
