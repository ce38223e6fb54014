package dev.bowline.controlplane.xds.gen.envoyfilter;

import dev.bowline.api.model.EnvoyFilter.Patch.Operation;
import java.util.List;
import java.util.Objects;
import java.util.function.BinaryOperator;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * istiod's operations on an ordered list of named things (HTTP, network and listener filters):
 * relative operations act on the first element the target predicate accepts.
 */
final class ListPatch {
  private ListPatch() {}

  /**
   * Applies {@code op}; {@code target} null means the match names no element (INSERT_BEFORE is then
   * INSERT_FIRST, INSERT_AFTER is ADD, the others do nothing). True when the list changed.
   */
  static <T> boolean apply(
      List<T> list,
      Operation op,
      @Nullable Predicate<T> target,
      @Nullable T value,
      BinaryOperator<T> merge) {
    int at = -1;
    if (target != null) {
      for (int i = 0; i < list.size(); i++) {
        if (target.test(list.get(i))) {
          at = i;
          break;
        }
      }
    }
    switch (op) {
      case ADD -> list.add(Objects.requireNonNull(value));
      case INSERT_FIRST -> list.addFirst(Objects.requireNonNull(value));
      case INSERT_BEFORE -> {
        if (target == null) {
          list.addFirst(Objects.requireNonNull(value));
        } else if (at >= 0) {
          list.add(at, Objects.requireNonNull(value));
        } else {
          return false;
        }
      }
      case INSERT_AFTER -> {
        if (target == null) {
          list.add(Objects.requireNonNull(value));
        } else if (at >= 0) {
          list.add(at + 1, Objects.requireNonNull(value));
        } else {
          return false;
        }
      }
      case REPLACE -> {
        if (at < 0) {
          return false;
        }
        list.set(at, Objects.requireNonNull(value));
      }
      case REMOVE -> {
        return target != null && list.removeIf(target);
      }
      case MERGE -> {
        if (at < 0) {
          return false;
        }
        list.set(at, merge.apply(list.get(at), Objects.requireNonNull(value)));
      }
      case INVALID -> {
        return false;
      }
    }
    return true;
  }
}
