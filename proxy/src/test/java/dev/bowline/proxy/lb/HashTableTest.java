package dev.bowline.proxy.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bowline.proxy.config.ClusterPolicy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HashTableTest {
  private static List<HashTable.Entry<String>> hosts(int... weights) {
    var list = new java.util.ArrayList<HashTable.Entry<String>>();
    for (int i = 0; i < weights.length; i++) {
      String addr = "10.0.0." + (i + 1) + ":8080";
      list.add(new HashTable.Entry<>(addr, addr, weights[i]));
    }
    return list;
  }

  private static Map<String, Integer> spread(HashTable<String> t, int n) {
    Map<String, Integer> counts = new HashMap<>();
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < n; i++) {
      counts.merge(t.pick(r.nextLong()), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void ringSizeFollowsTheMinimumAndTheLightestHost() {
    var ring = new RingHashTable<>(hosts(1, 1, 1), 1024, 8 * 1024 * 1024);
    assertThat(ring.size()).isBetween(1024, 1026);
    // the lightest host gets ceil(its share × minimum) entries, the others in proportion
    // (scale = ceil(min share × minimum) / min share, capped at the maximum)
    assertThat(new RingHashTable<>(hosts(1, 3), 1024, 8 << 20).size()).isEqualTo(1024);
    assertThat(new RingHashTable<>(hosts(1, 1000), 1024, 8 << 20).size()).isEqualTo(2002);
    assertThat(new RingHashTable<>(hosts(1, 1000), 1024, 1500).size()).isBetween(1500, 1501);
  }

  @Test
  void ringSpreadsByWeightAndKeepsKeysWhenAHostLeaves() {
    var ring = HashTable.build(new ClusterPolicy.RingHash(1024, 8 << 20), hosts(1, 1, 2));
    Map<String, Integer> counts = spread(ring, 40_000);
    assertThat(counts.get("10.0.0.3:8080")).isBetween(16_000, 24_000); // about half
    assertThat(counts.get("10.0.0.1:8080")).isBetween(7_000, 13_000);

    // a host leaving moves its own keys and, as the ring is rebuilt at the same size with more
    // entries per survivor, a small share of the others'
    var three = HashTable.build(new ClusterPolicy.RingHash(1024, 8 << 20), hosts(1, 1, 1));
    var two = HashTable.build(new ClusterPolicy.RingHash(1024, 8 << 20), hosts(1, 1));
    SplittableRandom r = new SplittableRandom(3);
    int kept = 0;
    int moved = 0;
    for (int i = 0; i < 10_000; i++) {
      long h = r.nextLong();
      String before = three.pick(h);
      if (!"10.0.0.3:8080".equals(before)) {
        kept++;
        if (!before.equals(two.pick(h))) {
          moved++;
        }
      }
    }
    assertThat((double) moved / kept).isLessThan(0.2);
  }

  @Test
  void maglevFillsEveryslotByWeight() {
    var table = HashTable.build(new ClusterPolicy.Maglev(65537), hosts(1, 1, 1));
    Map<String, Integer> slots = new HashMap<>();
    for (long i = 0; i < 65537; i++) {
      slots.merge(table.pick(i), 1, Integer::sum);
    }
    assertThat(slots.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(65537);
    assertThat(slots.values()).allSatisfy(c -> assertThat(c).isBetween(21_800, 21_900));

    var weighted = HashTable.build(new ClusterPolicy.Maglev(65537), hosts(1, 3));
    Map<String, Integer> w = new HashMap<>();
    for (long i = 0; i < 65537; i++) {
      w.merge(weighted.pick(i), 1, Integer::sum);
    }
    assertThat((double) w.get("10.0.0.2:8080") / w.get("10.0.0.1:8080")).isBetween(2.9, 3.1);
  }

  @Test
  void maglevMovesFewKeysWhenAHostLeaves() {
    var five = HashTable.build(new ClusterPolicy.Maglev(65537), hosts(1, 1, 1, 1, 1));
    var four = HashTable.build(new ClusterPolicy.Maglev(65537), hosts(1, 1, 1, 1));
    int moved = 0;
    for (long i = 0; i < 65537; i++) {
      String before = five.pick(i);
      if (!before.equals("10.0.0.5:8080") && !before.equals(four.pick(i))) {
        moved++;
      }
    }
    // Maglev is near-minimal: a few percent of the survivors' slots move
    assertThat(moved).isLessThan(65537 / 20);
  }

  @Test
  void emptyTablesPickNothing() {
    assertThat(
            HashTable.build(new ClusterPolicy.Maglev(65537), List.<HashTable.Entry<String>>of())
                .pick(1))
        .isNull();
    assertThat(
            HashTable.build(
                    new ClusterPolicy.RingHash(1024, 2048), List.<HashTable.Entry<String>>of())
                .pick(1))
        .isNull();
  }
}
